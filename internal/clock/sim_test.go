package clock

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestStateAt(t *testing.T) {
	wall := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		speed float64
		after time.Duration
		want  time.Duration
	}{
		{"paused", 0, time.Hour, 0},
		{"real time", 1, 10 * time.Second, 10 * time.Second},
		{"hundred times", 100, 36 * time.Second, time.Hour},
		{"slow motion", 0.5, 10 * time.Second, 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := State{SimTime: t0, WallTime: wall, Speed: tc.speed}
			if got := st.At(wall.Add(tc.after)).Sub(t0); got != tc.want {
				t.Fatalf("elapsed sim time = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseState(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"valid", `{"sim_time":"2026-11-23T09:00:00Z","wall_time":"2026-11-23T00:00:00Z","speed":60}`, false},
		{"paused without wall time", `{"sim_time":"2026-11-23T09:00:00Z","speed":0}`, false},
		{"negative speed", `{"sim_time":"2026-11-23T09:00:00Z","wall_time":"2026-11-23T00:00:00Z","speed":-1}`, true},
		{"missing sim time", `{"speed":1,"wall_time":"2026-11-23T00:00:00Z"}`, true},
		{"running without wall time", `{"sim_time":"2026-11-23T09:00:00Z","speed":2}`, true},
		{"not json", `speed=1`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseState([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}

func TestManualTimerFiresOnAdvance(t *testing.T) {
	c := NewManual(t0)
	tm := c.NewTimer(30 * time.Second)
	c.Advance(29 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("timer fired early")
	default:
	}
	c.Advance(time.Second)
	select {
	case got := <-tm.C():
		if !got.Equal(t0.Add(30 * time.Second)) {
			t.Fatalf("fired at %v", got)
		}
	default:
		t.Fatal("timer did not fire when its deadline was reached")
	}
}

func TestTimerStopAndReset(t *testing.T) {
	c := NewManual(t0)
	tm := c.NewTimer(time.Minute)
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer returned false")
	}
	c.Advance(2 * time.Minute)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
	if tm.Reset(time.Minute) {
		t.Fatal("Reset of a stopped timer reported it pending")
	}
	c.Advance(time.Minute)
	select {
	case <-tm.C():
	default:
		t.Fatal("reset timer did not fire")
	}
}

func TestTickerKeepsTicking(t *testing.T) {
	c := NewManual(t0)
	tk := c.NewTicker(10 * time.Second)
	defer tk.Stop()
	for i := 1; i <= 3; i++ {
		c.Advance(10 * time.Second)
		select {
		case got := <-tk.C():
			if want := t0.Add(time.Duration(i) * 10 * time.Second); !got.Equal(want) {
				t.Fatalf("tick %d at %v, want %v", i, got, want)
			}
		default:
			t.Fatalf("tick %d missing", i)
		}
	}
}

func TestTimerRunsAtSpeed(t *testing.T) {
	c := NewSim()
	c.Set(State{SimTime: t0, WallTime: time.Now(), Speed: 1000})
	start := time.Now()
	// 20 simulated seconds at 1000x is 20 ms of wall time.
	if err := Sleep(context.Background(), c, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if wall := time.Since(start); wall < 15*time.Millisecond {
		t.Fatalf("slept only %v of wall time for 20 simulated seconds at 1000x", wall)
	}
	if got := c.Now().Sub(t0); got < 20*time.Second {
		t.Fatalf("woke at sim +%v, before the deadline", got)
	}
}

func TestPausedClockHoldsTimersUntilResumed(t *testing.T) {
	c := NewManual(t0)
	tm := c.NewTimer(time.Second)
	select {
	case <-tm.C():
		t.Fatal("fired while paused")
	case <-time.After(20 * time.Millisecond):
	}
	c.SetSpeed(1000)
	select {
	case <-tm.C():
	case <-time.After(5 * time.Second):
		t.Fatal("timer did not fire after the clock resumed")
	}
}

func TestSleepHonoursContext(t *testing.T) {
	c := NewManual(t0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, c, time.Hour); err == nil {
		t.Fatal("Sleep on a cancelled context returned nil")
	}
}

func TestSynced(t *testing.T) {
	c := NewSim()
	select {
	case <-c.Synced():
		t.Fatal("synced before any state")
	default:
	}
	c.Set(State{SimTime: t0})
	select {
	case <-c.Synced():
	default:
		t.Fatal("not synced after Set")
	}
}

// ResetAt arms a timer for an instant: it fires at the first step at or
// after it (at once when it has passed), however the clock moved since the
// caller last read it.
func TestResetAt(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   time.Duration // from t0; the clock stands at t0+1s
		want time.Duration // the step it fires at
	}{
		{"later in the step after", 1500 * time.Millisecond, 2 * time.Second},
		{"at a step", 2 * time.Second, 2 * time.Second},
		{"now", time.Second, time.Second},
		{"passed", 0, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := stepped()
			tm := c.NewTimer(time.Hour)
			step(c, 2, time.Second) // the caller's Now was t0 when it chose the instant
			ResetAt(c, tm, t0.Add(tc.at))
			for n, d := uint64(2), time.Second; d <= 3*time.Second; n, d = n+1, d+time.Second {
				if d > time.Second {
					step(c, n, d)
				}
				select {
				case got := <-tm.C():
					if d != tc.want {
						t.Fatalf("fired at %v (tick %v), want at %v", d, got.Sub(t0), tc.want)
					}
					return
				default:
				}
			}
			t.Fatal("never fired")
		})
	}
	w := NewWorkTimer(Wall{}, time.Hour)
	ResetAt(Wall{}, w, time.Now())
	<-w.C() // the wall clock's timer fires at once too
}

// A stepped clock without a ceiling and a paused one both say speed 0;
// paused tells them apart, and a state without it (an older harness, the
// free-running form) reads as before.
func TestStatePausedOrMax(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		name   string
		msg    string
		pace   float64
		moving bool // At moves on at the state's own speed
		bad    bool
	}{
		{"stepped, no ceiling", `{"sim_time":"2026-11-23T09:00:00Z","speed":0,"step":7}`, inf, false, false},
		{"stepped, paused", `{"sim_time":"2026-11-23T09:00:00Z","speed":0,"step":7,"paused":true}`, 0, false, false},
		{"stepped, a ceiling", `{"sim_time":"2026-11-23T09:00:00Z","speed":60,"step":7}`, 60, false, false},
		{"free-running", `{"sim_time":"2026-11-23T09:00:00Z","wall_time":"2026-11-23T00:00:00Z","speed":10}`, 10, true, false},
		{"free-running, paused by speed 0", `{"sim_time":"2026-11-23T09:00:00Z","wall_time":"2026-11-23T00:00:00Z","speed":0}`, 0, false, false},
		{"free-running, paused", `{"sim_time":"2026-11-23T09:00:00Z","wall_time":"2026-11-23T00:00:00Z","speed":0,"paused":true}`, 0, false, false},
		{"paused at a speed: an older follower would run it", `{"sim_time":"2026-11-23T09:00:00Z","wall_time":"2026-11-23T00:00:00Z","speed":10,"paused":true}`, 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := ParseState([]byte(tc.msg))
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted %s", tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Pace(); got != tc.pace {
				t.Fatalf("pace %v, want %v", got, tc.pace)
			}
			later := st.WallTime.Add(time.Hour)
			if moved := !st.At(later).Equal(st.SimTime); moved != tc.moving {
				t.Fatalf("moved on by itself: %v, want %v", moved, tc.moving)
			}
			// Set back to its own pace, written and read again: the same.
			b, err := json.Marshal(st.WithPace(st.Pace()))
			if err != nil {
				t.Fatal(err)
			}
			again, err := ParseState(b)
			if err != nil || again.Pace() != tc.pace || again.Paused != (tc.pace == 0) {
				t.Fatalf("%s read back as %+v (%v)", b, again, err)
			}
			// A follower that predates paused reads speed and step alone.
			var old struct {
				Speed float64 `json:"speed"`
				Step  uint64  `json:"step"`
			}
			if err := json.Unmarshal(b, &old); err != nil || old.Speed != st.Speed || old.Step != st.Step {
				t.Fatalf("an older follower reads %s as %+v (%v)", b, old, err)
			}
		})
	}
}
