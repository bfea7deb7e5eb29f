package features

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/sim/harness"
)

const defaultSpeed = 60

// officeMorning is when every scenario starts: a Monday, 09:00 in Tokyo.
var officeMorning = time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))

// office is one scenario's view of the running system.
type office struct {
	sys  System
	dash *backendapi.Client
	// api calls the control and product APIs by whole URL.
	api  httpx.Client
	mqtt *recorder
	// people and task carry a scenario's accounts and the task it handles.
	people map[string]*person
	task   *backendapi.Task
	answer string
	// reply is the last raw JSON answer a compatibility step kept; device is
	// a connection as a device with the original firmware.
	reply  map[string]any
	device *bus.Client
}

func (o *office) reset(ctx context.Context) error {
	o.dash = backendapi.NewClient(o.sys.URL(harness.Backend), "")
	o.api = httpx.Client{HTTP: &http.Client{Timeout: 10 * time.Second}, MaxAnswer: 64 << 20} // request logs can be large
	o.people, o.task, o.reply = map[string]*person{}, nil, nil
	if o.device != nil {
		o.device.Close()
		o.device = nil
	}
	if err := o.sys.Reset(ctx, clock.State{SimTime: officeMorning, WallTime: time.Now(), Speed: defaultSpeed}); err != nil {
		return err
	}
	o.mqtt.close()
	var err error
	o.mqtt, err = startRecorder(ctx, o.sys.MQTT("monitor"), "mcp/+/request/#")
	return err
}

func (o *office) register(sc *godog.ScenarioContext) {
	sc.Step(`^the office clock runs at (\d+) times real speed$`, o.clockRunsAt)
	sc.Step(`^the meeting room "([^"]+)" is occupied by (\d+) (?:people|person)$`, o.zoneOccupiedBy)
	sc.Step(`^the CO2 level in "([^"]+)" rises to (\d+) ppm$`, o.co2RisesTo)
	sc.Step(`^within (\d+) simulated minutes the dashboard lists a ventilation task for "([^"]+)"$`, o.ventilationTaskWithin)
	sc.Step(`^the ventilation task for "([^"]+)" is listed only once$`, o.ventilationTaskOnce)
	sc.Step(`^for (\d+) simulated minutes the dashboard lists no task for "([^"]+)"$`, o.noTaskFor)
	sc.Step(`^for (\d+) simulated minutes the ventilation task for "([^"]+)" stays listed only once$`, o.ventilationTaskStaysOnce)
	o.registerDevices(sc)
	o.registerPerception(sc)
	o.registerVoice(sc)
	o.registerLLM(sc)
	o.registerEconomy(sc)
	o.registerOfficeLife(sc)
	o.registerChat(sc)
	o.registerInventory(sc)
	o.registerCompat(sc)
}

// ventilationTaskStaysOnce keeps checking that exactly one ventilation task
// exists for the whole window.
func (o *office) ventilationTaskStaysOnce(ctx context.Context, minutes int, zone string) error {
	return o.quietFor(ctx, time.Duration(minutes)*time.Minute, func() error {
		return o.ventilationTaskOnce(ctx, zone)
	})
}

func (o *office) clockRunsAt(ctx context.Context, speed int) error {
	return o.sys.SetClock(ctx, o.sys.Clock().State().WithPace(float64(speed)))
}

func (o *office) zoneOccupiedBy(ctx context.Context, zone string, people int) error {
	return o.patchZone(ctx, zone, map[string]any{"people": people})
}

func (o *office) co2RisesTo(ctx context.Context, zone string, ppm int) error {
	return o.patchZone(ctx, zone, map[string]any{"co2": ppm})
}

func (o *office) patchZone(ctx context.Context, zone string, patch map[string]any) error {
	return o.call(ctx, http.MethodPatch, o.sys.URL(harness.Edge)+"/zones/"+zone, patch, nil)
}

func isVentilation(t backendapi.Task) bool {
	return t.HasType("environment") && (strings.Contains(t.Title, "換気") || strings.Contains(strings.ToLower(t.Title), "ventilat"))
}

func (o *office) ventilationTaskWithin(ctx context.Context, minutes int, zone string) error {
	var found *backendapi.Task
	err := o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		tasks, err := o.dash.ListTasks(ctx, backendapi.TaskFilter{Zone: zone})
		if err != nil {
			return false, err
		}
		for _, t := range tasks {
			if isVentilation(t) {
				found = &t
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("no ventilation task for %s: %w", zone, err)
	}
	if found.Status != backendapi.StatusOpen {
		return fmt.Errorf("ventilation task #%d is %s, want open", found.ID, found.Status)
	}
	return nil
}

func (o *office) ventilationTaskOnce(ctx context.Context, zone string) error {
	tasks, err := o.dash.ListTasks(ctx, backendapi.TaskFilter{Zone: zone})
	if err != nil {
		return err
	}
	n := 0
	for _, t := range tasks {
		if isVentilation(t) {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%d ventilation tasks for %s, want exactly 1", n, zone)
	}
	return nil
}

func (o *office) noTaskFor(ctx context.Context, minutes int, zone string) error {
	return o.quietFor(ctx, time.Duration(minutes)*time.Minute, func() error {
		tasks, err := o.dash.ListTasks(ctx, backendapi.TaskFilter{Zone: zone})
		if err != nil {
			return err
		}
		if len(tasks) > 0 {
			return fmt.Errorf("unexpected task #%d %q for %s", tasks[0].ID, tasks[0].Title, zone)
		}
		return nil
	})
}

// within polls cond until it holds or d of simulated time has passed. A wall
// deadline guards against a paused clock.
func (o *office) within(ctx context.Context, d time.Duration, cond func() (bool, error)) error {
	deadline := o.sys.Clock().Now().Add(d)
	// At a ceiling the wall time is bounded by it; paused, or as fast as
	// the services allow, by a fixed cap.
	speed := o.sys.Clock().State().Pace()
	wallCap := 2 * time.Minute
	if speed > 0 && !math.IsInf(speed, 1) {
		wallCap = time.Duration(float64(d)/speed)*3 + 30*time.Second
	}
	wallDeadline := time.Now().Add(wallCap)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if !o.sys.Clock().Now().Before(deadline) {
			return timedOut{d}
		}
		if time.Now().After(wallDeadline) {
			return fmt.Errorf("simulated clock did not reach the deadline within %v of wall time", wallCap)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-o.sys.Failed():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type timedOut struct{ d time.Duration }

func (t timedOut) Error() string { return fmt.Sprintf("not within %v of simulated time", t.d) }

func errTimedOut(err error) bool { _, ok := err.(timedOut); return ok }

// call sends a JSON request to a control or product API and decodes the answer.
func (o *office) call(ctx context.Context, method, url string, in, out any) error {
	return o.api.Do(ctx, method, url, in, out)
}
