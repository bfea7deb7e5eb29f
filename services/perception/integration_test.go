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

func freePort(t *testing.T) int {
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
// virtual edge publishes it) and streaming it as RTSP/MJPEG, perception
// reading the stream, running the generated model on ONNX Runtime and
// publishing occupancy on Mosquitto. Three people → person_count 3; the
// scene emptied through the camera's control API → person_count 0.
func TestCameraToOccupancy(t *testing.T) {
	broker := testenv.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const zone = "it_room"
	camPort := startCameraAndPerception(t, ctx, cancel, broker, zone, func(c *Config) { c.Model = BuiltinSynthetic })
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

// startCameraAndPerception starts the virtual camera (with its mediamtx) for
// one zone and perception reading it, both on broker; tweak sets perception's
// model and settings. It returns the camera's control API port; both services
// are stopped (cancel) and checked at cleanup.
func startCameraAndPerception(t *testing.T, ctx context.Context, cancel context.CancelFunc, broker *localinfra.Broker, zone string, tweak func(*Config)) int {
	t.Helper()
	rtspPort, camPort, percPort := freePort(t), freePort(t), freePort(t)
	var camCfg camera.Config
	loadDefaults(t, &camCfg, map[string]string{"LOG_LEVEL": "warn"})
	camCfg.Common.MQTT = broker.Config(mqttacl.UserSim)
	camCfg.Addr = "127.0.0.1:" + strconv.Itoa(camPort)
	camCfg.RTSPPort = rtspPort
	camCfg.Cameras = []string{"cam_it@" + zone}
	camCfg.Transition = 500 * time.Millisecond
	camDone := make(chan error, 1)
	go func() { camDone <- camera.Run(ctx, camCfg) }()

	var pCfg Config
	loadDefaults(t, &pCfg, map[string]string{"LOG_LEVEL": "warn"})
	pCfg.Common.MQTT = broker.Config(mqttacl.UserService)
	pCfg.Addr = "127.0.0.1:" + strconv.Itoa(percPort)
	pCfg.Cameras = []string{fmt.Sprintf("cam_it@%s=rtsp://127.0.0.1:%d/cam_it", zone, rtspPort)}
	pCfg.OccupancyInterval = 300 * time.Millisecond
	pCfg.ActivityInterval = 300 * time.Millisecond
	tweak(&pCfg)
	percDone := make(chan error, 1)
	go func() { percDone <- RunWithModels(ctx, pCfg, modelgen.Builtin) }()
	t.Cleanup(func() {
		cancel()
		for _, ch := range []chan error{camDone, percDone} {
			if err := <-ch; err != nil {
				t.Errorf("service stopped with: %v", err)
			}
		}
	})
	return camPort
}
