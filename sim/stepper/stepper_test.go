package stepper_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/internal/service"
	"github.com/somsgo/soms/internal/testenv"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/sim/stepper"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// follower is a real service kit following the simulated clock, with a work
// loop the test can block: every 10 simulated seconds it takes a tick and
// waits for the test's go-ahead before it is done with it.
type follower struct {
	kit   *service.Kit
	ticks chan time.Time
	goOn  chan struct{}
}

func startFollower(t *testing.T, ctx context.Context, name string, block bool) *follower {
	t.Helper()
	b := testenv.Broker(t)
	kit, err := service.New(ctx, name, service.Common{MQTT: b.Config(mqttacl.UserFollower), Clock: "sim", Log: logging.Config{Level: "error"}},
		service.Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	f := &follower{kit: kit, ticks: make(chan time.Time, 100), goOn: make(chan struct{})}
	go func() {
		_ = kit.Run(ctx, "127.0.0.1:0", func(ctx context.Context) error {
			w := clock.NewWorkTimer(kit.Clock, 10*time.Second)
			defer w.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case at := <-w.C():
					f.ticks <- at
					if block {
						select {
						case <-f.goOn:
						case <-ctx.Done():
							return nil
						}
					}
					w.Reset(10 * time.Second)
					w.Done()
				}
			}
		})
		kit.Close()
	}()
	return f
}

func startStepper(t *testing.T, ctx context.Context, speed float64, opts stepper.Options) *stepper.Stepper {
	t.Helper()
	b := bus.New(testenv.Broker(t).Config(mqttacl.UserSim), "stepper-test", slog.New(slog.DiscardHandler), nil)
	t.Cleanup(b.Close)
	if err := b.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	s := stepper.New(b, nil, opts)
	if err := s.Start(ctx, t0, speed); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestClockWaitsForTheSlowestProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := startStepper(t, ctx, 0, stepper.Options{})
	fast := startFollower(t, ctx, "fast", false)
	slow := startFollower(t, ctx, "slow", true)
	s.Expect("fast", "slow")

	done := make(chan error, 1)
	go func() { done <- s.RunUntil(ctx, t0.Add(time.Minute)) }()
	// The slow process has taken its tick at +10s and holds it: the clock
	// stays at +10s however fast the other one is.
	if at := <-slow.ticks; !at.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("slow ticked at %v", at)
	}
	if at := <-fast.ticks; !at.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("fast ticked at %v", at)
	}
	select {
	case at := <-fast.ticks:
		t.Fatalf("the clock ran on to %v while a process was still working", at)
	case <-time.After(100 * time.Millisecond): // a window for a wrong tick to show
	}
	if now := s.State().SimTime; now.After(t0.Add(10 * time.Second)) {
		t.Fatalf("clock at %v, ahead of the slow process", now)
	}
	for i := 2; i <= 6; i++ {
		slow.goOn <- struct{}{}
		want := t0.Add(time.Duration(i) * 10 * time.Second)
		if at := <-slow.ticks; !at.Equal(want) {
			t.Fatalf("slow ticked at %v, want %v", at, want)
		}
	}
	slow.goOn <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := s.State().SimTime; !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("RunUntil stopped at %v", got)
	}
	if got := s.Processes(); len(got) != 2 {
		t.Fatalf("processes %v", got)
	}
	stats := s.Stats()
	t.Log("\n" + stepper.Describe(stats))
	for _, st := range stats {
		// slow held the +10s step for the test's whole window.
		if st.Process == "slow" && st.AckMax < 100*time.Millisecond {
			t.Fatalf("slow's acknowledgements do not show its hold:\n%s", stepper.Describe(stats))
		}
	}
}

func TestNumericSpeedIsACeiling(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := startStepper(t, ctx, 0, stepper.Options{Step: time.Second})
	startFollower(t, ctx, "paced", false)
	s.Expect("paced")
	if err := s.SetSpeed(100); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := s.RunUntil(ctx, t0.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	// 20 simulated seconds at 100x cannot take less than 200ms.
	if wall := time.Since(began); wall < 190*time.Millisecond {
		t.Fatalf("20 simulated seconds at 100x took only %v", wall)
	}
}

func TestAProcessThatLeavesOrFallsSilentIsNotWaitedFor(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := startStepper(t, ctx, 0, stepper.Options{Lost: 300 * time.Millisecond})
	kctx, stop := context.WithCancel(ctx)
	startFollower(t, kctx, "leaving", false)
	// A process that acknowledges the first step, then dies without a word.
	silent := bus.New(testenv.Broker(t).Config(mqttacl.UserFollower), "silent", slog.New(slog.DiscardHandler), nil)
	defer silent.Close()
	if err := silent.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := silent.PublishJSON(ctx, topic.SimProgress("silent"), 0, false, clock.Progress{Process: "silent", Instance: "1", Step: 1, SimTime: t0}); err != nil {
		t.Fatal(err)
	}
	s.Expect("leaving", "silent")
	if err := s.RunUntil(ctx, t0.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := s.Processes(); len(got) != 1 || got[0] != "leaving" {
		t.Fatalf("processes %v, want the silent one no longer waited for", got)
	}
	stop() // says it is gone on the way out
	if err := s.RunUntil(ctx, t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := s.Processes(); len(got) != 0 {
		t.Fatalf("still waiting for %v", got)
	}
	if st := s.Stats(); len(st) == 0 || st[len(st)-1].Lost == 0 && st[0].Lost == 0 {
		t.Fatalf("the silent process was not counted lost:\n%s", stepper.Describe(st))
	}
}

// The harness moves the time by reading the clock's state back from its
// mirror and changing the time (features: "it is 23:30 in the office"), then
// sets the state's speed again. A speed just set must be in the mirror at
// once, not only with the next step: the night feature read the speed of the
// step before ("paused"), jumped, and paused the clock it had just started.
func TestTheMirrorShowsASpeedChangeAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := bus.New(testenv.Broker(t).Config(mqttacl.UserSim), "stepper-mirror-test", slog.New(slog.DiscardHandler), nil)
	t.Cleanup(b.Close)
	if err := b.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	mirror := clock.NewSim()
	s := stepper.New(b, mirror, stepper.Options{})
	if err := s.Start(ctx, t0, 0); err != nil {
		t.Fatal(err)
	}
	// A slow ceiling: the next step is two wall seconds away, so only the
	// speed change itself can put the new speed into the mirror in time.
	if err := s.SetSpeed(0.5); err != nil {
		t.Fatal(err)
	}
	st := mirror.State()
	if st.Speed != 0.5 {
		t.Fatalf("mirror speed %v right after SetSpeed(0.5), want 0.5", st.Speed)
	}
	st.SimTime = t0.Add(14 * time.Hour)
	if err := s.Jump(ctx, st.SimTime); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSpeed(st.Speed); err != nil {
		t.Fatal(err)
	}
	if got := s.Speed(); got != 0.5 {
		t.Fatalf("speed %v after moving the time with the mirror's state, want 0.5", got)
	}
	if got := mirror.State(); got.Speed != 0.5 || !got.SimTime.Equal(t0.Add(14*time.Hour)) {
		t.Fatalf("mirror %+v after the jump", got)
	}
	if err := s.RunUntil(ctx, t0.Add(14*time.Hour+time.Second)); err != nil {
		t.Fatal(err)
	}
}
