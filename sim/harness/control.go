package harness

import (
	"net/http"
	"time"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/httpx"
)

// clockView is the clock as the control API shows it.
type clockView struct {
	SimTime time.Time `json:"sim_time"`
	Speed   float64   `json:"speed"`
	Paused  bool      `json:"paused"`
}

// clockChange is the body of PUT /clock; absent fields are kept.
type clockChange struct {
	SimTime *time.Time `json:"sim_time"`
	Speed   *float64   `json:"speed"`
}

func (s *Stack) controlRoutes(srv *httpx.Server) {
	srv.Router.Get("/clock", func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, s.clockView())
	})
	srv.Router.Put("/clock", func(w http.ResponseWriter, r *http.Request) {
		var c clockChange
		if !httpx.DecodeOrError(w, r, &c) {
			return
		}
		if c.Speed != nil && (*c.Speed < 0 || *c.Speed > 10000) {
			httpx.Invalid(w, map[string]string{"speed": "must be between 0 (paused) and 10000"})
			return
		}
		st := s.Clock.State()
		if c.SimTime != nil {
			st.SimTime = *c.SimTime
		}
		if c.Speed != nil {
			st.Speed = *c.Speed
		}
		if err := s.SetClock(r.Context(), clock.State{SimTime: st.SimTime, WallTime: time.Now(), Speed: st.Speed}); err != nil {
			httpx.Error(w, http.StatusBadGateway, err.Error())
			return
		}
		httpx.WriteJSON(w, http.StatusOK, s.clockView())
	})
}

func (s *Stack) clockView() clockView {
	st := s.Clock.State()
	return clockView{SimTime: st.SimTime, Speed: st.Speed, Paused: st.Speed == 0}
}
