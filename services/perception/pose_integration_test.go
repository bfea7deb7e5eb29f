package perception

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/sim/camera"
	"github.com/somsgo/soms/sim/scene"
)

// TestCameraToPoseAndFall runs the whole path with the generated pose model
// (PERCEPTION_MODEL=builtin:synthetic-pose): the virtual camera streams one
// standing and one fallen person over RTSP; perception publishes spatial
// messages whose persons carry 17 keypoints and the postures standing and
// lying, and a fall alert on office/{zone}/safety/fall for the fallen one.
func TestCameraToPoseAndFall(t *testing.T) {
	broker := testenv.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const zone = "it_pose"
	startCameraAndPerception(t, ctx, broker, zone, camera.CodecH264, func(c *Config) {
		c.Model = BuiltinSyntheticPose
		c.FallConfirm = time.Second
	})

	postures := make(chan []string, 256)
	falls := make(chan FallMsg, 16)
	mon := bus.New(broker.Config(mqttacl.UserMonitor), "perception-pose-test", logging.Discard(), nil)
	defer mon.Close()
	if err := mon.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := mon.Subscribe(ctx, topic.Spatial(zone, "cam_it"), 1, func(m bus.Message) {
		var s SpatialMsg
		if err := json.Unmarshal(m.Payload, &s); err != nil {
			t.Errorf("bad spatial message %s: %v", m.Payload, err)
			return
		}
		var ps []string
		for _, p := range s.Persons {
			if len(p.Keypoints) != NumKeypoints || len(p.KeypointConf) != NumKeypoints {
				t.Errorf("person without 17 keypoints: %s", m.Payload)
				return
			}
			ps = append(ps, p.Posture)
		}
		slices.Sort(ps)
		select {
		case postures <- ps:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := mon.Subscribe(ctx, topic.Fall(zone), 1, func(m bus.Message) {
		var f FallMsg
		if err := json.Unmarshal(m.Payload, &f); err != nil {
			t.Errorf("bad fall message %s: %v", m.Payload, err)
			return
		}
		falls <- f
	}); err != nil {
		t.Fatal(err)
	}

	edge := bus.New(broker.Config(mqttacl.UserSim), "perception-pose-test-edge", logging.Discard(), nil)
	defer edge.Close()
	if err := edge.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	z := scene.Zone{Zone: zone, Seq: 1, People: []scene.Person{
		{ID: "a", X: 0.25, Y: 0.5, Posture: scene.Standing, Motion: 0.2},
		{ID: "b", X: 0.7, Y: 0.7, Posture: scene.Fallen},
	}}
	if err := edge.PublishJSON(ctx, scene.Topic(zone), 1, true, z); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = edge.Publish(context.Background(), scene.Topic(zone), 1, true, nil) })

	want := []string{PostureLying, PostureStanding}
	var seen [][]string
	for steady := 0; steady < 3; {
		select {
		case ps := <-postures:
			seen = append(seen, ps)
			if slices.Equal(ps, want) {
				steady++
			} else {
				steady = 0
			}
		case <-ctx.Done():
			t.Fatalf("no steady postures %v; saw %v", want, seen)
		}
	}
	select {
	case f := <-falls:
		if f.Zone != zone || f.Confidence < 0.5 || f.BBox[2]-f.BBox[0] <= f.BBox[3]-f.BBox[1] {
			t.Errorf("fall alert %+v", f)
		}
	case <-ctx.Done():
		t.Fatal("no fall alert")
	}
}
