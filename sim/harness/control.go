package harness

import (
	"context"
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/sim/stepper"
)

// ClockView is the clock as the control API shows it.
type ClockView struct {
	SimTime time.Time     `json:"sim_time"`
	Speed   stepper.Speed `json:"speed"`
	Paused  bool          `json:"paused"`
	// Step is the closed-loop clock's step number; StepNS its length.
	Step   uint64        `json:"step"`
	StepNS time.Duration `json:"step_ns"`
	// Processes are the processes the clock waits for.
	Processes []string `json:"processes"`
	// Lag is how each process kept up since the stack started.
	Lag []stepper.ProcessStats `json:"lag"`
}

// ClockChange is the body of PUT /clock; absent fields are kept.
type ClockChange struct {
	SimTime *time.Time     `json:"sim_time"`
	Speed   *stepper.Speed `json:"speed"`
	// RunUntil runs the clock (at its speed; a paused one as fast as the
	// services allow) to this simulated time and answers once every process
	// has handled it; the clock then stays there until the next change.
	RunUntil *time.Time `json:"run_until"`
}

func (s *Stack) controlRoutes(srv *httpx.Server) {
	srv.Router.Get("/clock", func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, s.clockView())
	})
	srv.Router.Put("/clock", func(w http.ResponseWriter, r *http.Request) {
		var c ClockChange
		if !httpx.DecodeOrError(w, r, &c) {
			return
		}
		if c.Speed != nil && !math.IsInf(float64(*c.Speed), 1) && (*c.Speed < 0 || *c.Speed > 10000) {
			httpx.Invalid(w, map[string]string{"speed": "must be between 0 (paused) and 10000, or \"max\""})
			return
		}
		if c.SimTime != nil {
			if err := s.Stepper.Jump(r.Context(), *c.SimTime); err != nil {
				httpx.Error(w, http.StatusServiceUnavailable, err.Error())
				return
			}
		}
		if c.Speed != nil {
			if err := s.Stepper.SetSpeed(float64(*c.Speed)); err != nil {
				httpx.Error(w, http.StatusUnprocessableEntity, err.Error())
				return
			}
		}
		if c.RunUntil != nil {
			if err := s.Stepper.RunUntil(r.Context(), *c.RunUntil); err != nil {
				httpx.Error(w, http.StatusServiceUnavailable, err.Error())
				return
			}
		}
		httpx.WriteJSON(w, http.StatusOK, s.clockView())
	})
	srv.Router.Get("/stack", func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, s.stackView())
	})
	srv.Router.Get("/processes", func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"processes": s.processViews(), "incidents": s.Incidents()})
	})
	srv.Router.Post("/processes/{name}/{action}", func(w http.ResponseWriter, r *http.Request) {
		name, action := chi.URLParam(r, "name"), chi.URLParam(r, "action")
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
		defer cancel()
		var err error
		switch action {
		case "kill":
			err = s.Kill(name)
		case "stop":
			err = s.StopProcess(name)
		case "start":
			err = s.StartProcess(ctx, name)
		case "restart":
			err = s.Restart(ctx, name)
		default:
			httpx.Invalid(w, map[string]string{"action": "kill, stop, start or restart"})
			return
		}
		if errors.Is(err, errUnknownProcess) {
			httpx.Error(w, http.StatusNotFound, err.Error())
			return
		}
		if err != nil {
			httpx.Error(w, http.StatusConflict, err.Error())
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"processes": s.processViews()})
	})
}

func (s *Stack) clockView() ClockView {
	st := s.Stepper.State()
	speed := s.Stepper.Speed()
	return ClockView{
		SimTime: st.SimTime, Speed: stepper.Speed(speed), Paused: speed == 0, Step: st.Step, StepNS: s.Stepper.StepLength(),
		Processes: s.Stepper.Processes(), Lag: s.Stepper.Stats(),
	}
}

// ProcessView is one supervised process in GET /processes.
type ProcessView struct {
	Name    string `json:"name"`
	Running bool   `json:"running"`
	// Held: brought down on request (Kill, Stop) and not restarted.
	Held bool `json:"held"`
	Pid  int  `json:"pid,omitempty"`
}

func (s *Stack) processViews() []ProcessView {
	var out []ProcessView
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, svc := range s.active() {
		m := s.procs[svc.name]
		v := ProcessView{Name: svc.name}
		if m != nil && m.proc != nil {
			done, _ := m.proc.Exited()
			v.Running, v.Held = !done, m.held
			if !done {
				v.Pid = m.proc.Pid()
			}
		}
		out = append(out, v)
	}
	for _, name := range []string{Mosquitto, Postgres} {
		v := ProcessView{Name: name, Held: s.held[name]}
		var done <-chan struct{}
		if name == Mosquitto && s.broker != nil {
			done = s.broker.Done()
		} else if name == Postgres && s.postgres != nil {
			done = s.postgres.Done()
		}
		if done != nil {
			select {
			case <-done:
			default:
				v.Running = true
			}
		}
		out = append(out, v)
	}
	return out
}
