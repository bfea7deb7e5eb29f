package perception

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/config"
	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/sim/camera"
	"github.com/somsgo/soms/sim/modelgen"
	"github.com/somsgo/soms/sim/scene"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func loadDefaults(t *testing.T, dst any, env map[string]string) {
	t.Helper()
	if err := config.Load(dst, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
}

// TestCameraToOccupancy runs the whole path for real: mediamtx started by the
// virtual camera, the camera rendering a scene it receives from MQTT (as the
// virtual edge publishes it) and publishing it over RTSP through FFmpeg,
// perception decoding the stream with FFmpeg, running the generated model on
// ONNX Runtime and publishing occupancy on Mosquitto. H.264 (what IP cameras
// and the virtual camera send by default): three people → person_count 3,
// the scene emptied through the camera's control API → 0. H.265 and MJPEG
// over RTSP: three people counted, and GET /cameras names the codec decoded.
func TestCameraToOccupancy(t *testing.T) {
	for _, tt := range []struct {
		codec, decoded string
		empty          bool
	}{
		{camera.CodecH264, "h264", true},
		{camera.CodecH265, "hevc", false},
		{camera.CodecMJPEG, "mjpeg", false},
	} {
		t.Run(tt.codec, func(t *testing.T) { testCameraToOccupancy(t, tt.codec, tt.decoded, tt.empty) })
	}
}

func testCameraToOccupancy(t *testing.T, codec, decoded string, empty bool) {
	broker := testenv.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	zone := "it_" + codec
	camPort, perc := startCameraAndPerception(t, ctx, broker, zone, codec, func(c *Config) { c.Model = BuiltinSynthetic })
	sim := broker.Config(mqttacl.UserSim)

	counts := make(chan int, 256)
	mon := bus.New(broker.Config(mqttacl.UserMonitor), "perception-test", logging.Discard(), nil)
	defer mon.Close()
	if err := mon.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := mon.Subscribe(ctx, topic.Occupancy(zone), 1, func(m bus.Message) {
		var o OccupancyMsg
		if err := json.Unmarshal(m.Payload, &o); err != nil || o.Zone != zone {
			t.Errorf("bad occupancy message %s: %v", m.Payload, err)
			return
		}
		select {
		case counts <- o.PersonCount:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}

	// The virtual edge's way: a retained scene on soms/sim/scene/{zone}.
	edge := bus.New(sim, "perception-test-edge", logging.Discard(), nil)
	defer edge.Close()
	if err := edge.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	three := scene.Zone{Zone: zone, Seq: 1, People: []scene.Person{
		{ID: "a", X: 0.2, Y: 0.6, Posture: scene.Standing, Motion: 0.2},
		{ID: "b", X: 0.5, Y: 0.8, Posture: scene.Sitting, Motion: 0.1},
		{ID: "c", X: 0.8, Y: 0.4, Posture: scene.Walking, Motion: 0.5},
	}}
	if err := edge.PublishJSON(ctx, scene.Topic(zone), 1, true, three); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = edge.Publish(context.Background(), scene.Topic(zone), 1, true, nil) })

	waitCount(t, ctx, counts, 3)
	st := perc.status(t)
	if c := st.Cameras[0]; c.Codec != decoded || c.Input != InputRTSP || c.Width != 640 || c.Height != 480 || !c.Receiving {
		t.Errorf("GET /cameras = %+v, want %s 640x480 over RTSP", c, decoded)
	}
	if !empty {
		return
	}

	// The standalone way: the camera's control API empties the room.
	body, _ := json.Marshal(scene.Zone{People: []scene.Person{}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, fmt.Sprintf("http://127.0.0.1:%d/cameras/cam_it/scene", camPort), bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT scene: %s", resp.Status)
	}
	waitCount(t, ctx, counts, 0)
}

// waitCount waits until perception reports want for a few messages in a row
// (people walk in and out, so intermediate counts are expected on the way).
func waitCount(t *testing.T, ctx context.Context, counts <-chan int, want int) {
	t.Helper()
	var seen []int
	streak := 0
	for {
		select {
		case n := <-counts:
			seen = append(seen, n)
			if n == want {
				streak++
			} else {
				streak = 0
			}
			if streak >= 3 {
				return
			}
		case <-ctx.Done():
			t.Fatalf("no steady person_count %d; saw %v", want, seen)
		}
	}
}

// startCameraAndPerception starts the virtual camera (with its mediamtx,
// publishing codec) for one zone and perception reading it, both on broker;
// tweak sets perception's model and settings. It returns the camera's control
// API port and the running perception; both services are stopped and checked
// at cleanup.
func startCameraAndPerception(t *testing.T, ctx context.Context, broker *localinfra.Broker, zone, codec string, tweak func(*Config)) (int, *runningPerception) {
	t.Helper()
	rtspPort, camPort := startCamera(t, ctx, broker, zone, codec)
	perc := startPerception(t, ctx, broker, func(c *Config) {
		c.Cameras = []string{fmt.Sprintf("cam_it@%s=rtsp://127.0.0.1:%d/cam_it", zone, rtspPort)}
		tweak(c)
	})
	return camPort, perc
}

// startCamera runs the virtual camera with one camera, cam_it, on zone; it
// returns the RTSP and control API ports.
func startCamera(t *testing.T, ctx context.Context, broker *localinfra.Broker, zone, codec string) (int, int) {
	t.Helper()
	rtspPort, camPort := freePort(t), freePort(t)
	var camCfg camera.Config
	loadDefaults(t, &camCfg, map[string]string{"LOG_LEVEL": "warn"})
	camCfg.Common.MQTT = broker.Config(mqttacl.UserFollower)
	camCfg.Addr = "127.0.0.1:" + strconv.Itoa(camPort)
	camCfg.RTSPPort = rtspPort
	camCfg.Cameras = []string{"cam_it@" + zone}
	camCfg.Transition = 500 * time.Millisecond
	camCfg.Codec = codec
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- camera.Run(ctx, camCfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("camera stopped with: %v", err)
		}
	})
	return rtspPort, camPort
}

// runningPerception is perception started by startPerception.
type runningPerception struct {
	addr string
	log  *syncBuffer // everything it logged (text, debug level)
}

// startPerception runs perception on broker with tweak applied to its
// configuration, logging at debug level into a buffer the test can read. At
// cleanup it is stopped; it must return nil and leave no decoder running.
func startPerception(t *testing.T, ctx context.Context, broker *localinfra.Broker, tweak func(*Config)) *runningPerception {
	t.Helper()
	var cfg Config
	loadDefaults(t, &cfg, map[string]string{"LOG_LEVEL": "debug"})
	cfg.Common.MQTT = broker.Config(mqttacl.UserPerception)
	cfg.Addr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	cfg.OccupancyInterval = 300 * time.Millisecond
	cfg.ActivityInterval = 300 * time.Millisecond
	tweak(&cfg)
	p := &runningPerception{addr: cfg.Addr, log: &syncBuffer{}}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, modelgen.Builtin, p.log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("perception stopped with: %v", err)
		}
		if left := childProcs(t, "showinfo=checksum=0"); len(left) > 0 {
			t.Errorf("perception stopped but left FFmpeg decoders running: %v", left)
		}
		if t.Failed() {
			t.Logf("perception's log:\n%s", p.log.String())
		}
	})
	return p
}

// status is perception's GET /cameras, once it answers.
func (p *runningPerception) status(t *testing.T) Status {
	t.Helper()
	var st Status
	waitFor(t, "GET /cameras", 30*time.Second, func() bool {
		resp, err := http.Get("http://" + p.addr + "/cameras")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		st = Status{}
		return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&st) == nil
	})
	return st
}

// camera is one camera's entry in GET /cameras.
func (p *runningPerception) camera(t *testing.T, id string) CameraStatus {
	t.Helper()
	for _, c := range p.status(t).Cameras {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("GET /cameras has no camera %s", id)
	return CameraStatus{}
}

// waitCamera polls GET /cameras until camera id satisfies cond.
func (p *runningPerception) waitCamera(t *testing.T, id, what string, timeout time.Duration, cond func(CameraStatus) bool) CameraStatus {
	t.Helper()
	var c CameraStatus
	waitFor(t, fmt.Sprintf("camera %s: %s", id, what), timeout, func() bool {
		c = p.camera(t, id)
		return cond(c)
	})
	return c
}
