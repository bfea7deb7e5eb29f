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

// A message one process sent another on a path that does not carry the
// clock (a tool call on a device's own connection) holds the next step until
// the receiver says it has it — whichever of the two notes comes in first —
// or until Options.InFlight has passed (the receiver may be gone, or a real
// device): otherwise the receiver took it at whichever step its connection
// delivered it in.
func TestAMessageInFlightHoldsTheNextStep(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const inFlight = 300 * time.Millisecond
	s := startStepper(t, ctx, 0, stepper.Options{InFlight: inFlight})
	b := testenv.Broker(t)
	steps := make(chan uint64, 100)
	watch := bus.New(b.Config(mqttacl.UserFollower), "watch", slog.New(slog.DiscardHandler), nil)
	defer watch.Close()
	if err := watch.Subscribe(ctx, topic.SimClock, 0, func(m bus.Message) {
		if st, err := clock.ParseState(m.Payload); err == nil {
			steps <- st.Step
		}
	}); err != nil {
		t.Fatal(err)
	}
	ack := func(name string, step uint64, p clock.Progress) {
		t.Helper()
		c := bus.New(b.Config(mqttacl.UserFollower), name+"-test", slog.New(slog.DiscardHandler), nil)
		defer c.Close()
		if err := c.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		p.Process, p.Instance, p.Step, p.SimTime = name, "1", step, t0.Add(time.Duration(step-1)*time.Second)
		if err := c.PublishJSON(ctx, topic.SimProgress(name), 1, false, p); err != nil {
			t.Fatal(err)
		}
	}
	next := func(want uint64, within time.Duration) {
		t.Helper()
		deadline := time.After(within)
		for {
			select {
			case got := <-steps:
				if got == want {
					return
				}
				if got > want {
					t.Fatalf("step %d published, want %d", got, want)
				}
			case <-deadline:
				t.Fatalf("step %d not published within %v (clock at step %d)", want, within, s.State().Step)
			}
		}
	}
	noStep := func(step uint64, window time.Duration) {
		t.Helper()
		deadline := time.After(window) // a window for a wrong step to show
		for {
			select {
			case got := <-steps:
				if got >= step {
					t.Fatalf("step %d published while a message was in flight", got)
				}
			case <-deadline:
				return
			}
		}
	}

	s.Expect("sender", "receiver")
	ack("sender", 1, clock.Progress{Sent: []string{"m1"}})
	ack("receiver", 1, clock.Progress{})
	if err := s.SetSpeed(stepper.Max); err != nil {
		t.Fatal(err)
	}
	noStep(2, inFlight/2)
	ack("receiver", 1, clock.Progress{Received: []string{"m1"}}) // the same step again, with the receipt
	next(2, 10*time.Second)

	// The receipt may come in before the sender's note.
	ack("receiver", 2, clock.Progress{Received: []string{"m2"}})
	ack("sender", 2, clock.Progress{Sent: []string{"m2"}})
	next(3, inFlight/2)

	// Never received: the clock goes on after InFlight, and counts it.
	began := time.Now()
	ack("receiver", 3, clock.Progress{})
	ack("sender", 3, clock.Progress{Sent: []string{"m3"}})
	next(4, 10*time.Second)
	if waited := time.Since(began); waited < inFlight {
		t.Fatalf("went on after %v, before the message's lease", waited)
	}
	for _, st := range s.Stats() {
		if st.Process == "sender" && st.Unreceived != 1 {
			t.Fatalf("sender: %d unreceived, want 1", st.Unreceived)
		}
	}
}

// The same through the services' kits: a process notes a message sent while
// it handles a step, and the receiver notes it received later, between
// steps — its kit says so at once, with its last acknowledgement again.
func TestKitsReportMessagesInFlight(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := startStepper(t, ctx, 0, stepper.Options{InFlight: time.Minute})
	b := testenv.Broker(t)
	kit := func(name string, loop func(context.Context, *service.Kit) error) {
		k, err := service.New(ctx, name, service.Common{MQTT: b.Config(mqttacl.UserFollower), Clock: "sim", Log: logging.Config{Level: "error"}},
			service.Options{LogOutput: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			_ = k.Run(ctx, "127.0.0.1:0", func(ctx context.Context) error { return loop(ctx, k) })
			k.Close()
		}()
	}
	kit("sender", func(ctx context.Context, k *service.Kit) error {
		w := clock.NewWorkTimer(k.Clock, 10*time.Second)
		defer w.Stop()
		select {
		case <-ctx.Done():
		case <-w.C():
			clock.Sent(k.Clock, "m")
			w.Done()
		}
		<-ctx.Done()
		return nil
	})
	take := make(chan struct{})
	kit("receiver", func(ctx context.Context, k *service.Kit) error {
		select {
		case <-ctx.Done():
		case <-take:
			clock.Received(k.Clock, "m")
		}
		<-ctx.Done()
		return nil
	})
	s.Expect("sender", "receiver")
	done := make(chan error, 1)
	go func() { done <- s.RunUntil(ctx, t0.Add(20*time.Second)) }()
	select {
	case err := <-done:
		t.Fatalf("ran to +20s with a message in flight: %v", err)
	case <-time.After(300 * time.Millisecond): // a window for a wrong step to show
	}
	if now := s.State().SimTime; !now.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("clock at %v while the message sent at +10s was in flight", now.Sub(t0))
	}
	close(take)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Paused and as fast as the processes allow both say speed 0 in a step;
// paused tells them apart in the mirror and in the retained message, which
// is published again when the speed changes (a paused clock publishes no
// next step that could say so).
func TestPausedIsNotMax(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := testenv.Broker(t)
	pub := bus.New(b.Config(mqttacl.UserSim), "stepper-paused-test", slog.New(slog.DiscardHandler), nil)
	t.Cleanup(pub.Close)
	if err := pub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	wire := make(chan clock.State, 100)
	watch := bus.New(b.Config(mqttacl.UserFollower), "stepper-paused-watch", slog.New(slog.DiscardHandler), nil)
	t.Cleanup(watch.Close)
	if err := watch.Subscribe(ctx, topic.SimClock, 0, func(m bus.Message) {
		if st, err := clock.ParseState(m.Payload); err == nil {
			wire <- st
		}
	}); err != nil {
		t.Fatal(err)
	}
	mirror := clock.NewSim()
	s := stepper.New(pub, mirror, stepper.Options{})
	// Waited for, so that the clock stands at step 1 whatever the speed.
	s.Expect("absent")
	if err := s.Start(ctx, t0, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		speed  float64
		paused bool
		wire   float64 // the speed field
	}{
		{"paused", 0, true, 0},
		{"max", stepper.Max, false, 0},
		{"a ceiling", 30, false, 30},
		{"paused again", 0, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.SetSpeed(tc.speed); err != nil {
				t.Fatal(err)
			}
			if got := mirror.State(); got.Paused != tc.paused || got.Speed != tc.wire || got.Pace() != tc.speed {
				t.Fatalf("mirror %+v (pace %v), want paused %v speed %v", got, got.Pace(), tc.paused, tc.wire)
			}
			deadline := time.After(10 * time.Second)
			for {
				select {
				case got := <-wire:
					if got.Paused == tc.paused && got.Speed == tc.wire && got.Pace() == tc.speed {
						return
					}
				case <-deadline:
					t.Fatalf("the clock topic never said paused %v speed %v", tc.paused, tc.wire)
				}
			}
		})
	}
}
