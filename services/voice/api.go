package voice

import (
	"context"
	"crypto/subtle"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"golang.org/x/sync/errgroup"

	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/voice"
)

// API holds the voice service's handlers.
type API struct {
	writer     *Writer
	synth      *Synth
	store      *Store
	engine     *voice.Engine
	rejections *Stock
	acceptance *Stock
	publicURL  string
	maxText    int
	token      string
	log        *slog.Logger

	active atomic.Int64 // requests in flight; the stock refill waits for 0

	creditOnce sync.Mutex
	credit     string
}

// APIOptions are the API's settings.
type APIOptions struct {
	PublicURL    string
	MaxText      int
	ServiceToken string
}

// NewAPI assembles the handlers.
func NewAPI(w *Writer, s *Synth, st *Store, e *voice.Engine, rejections, acceptance *Stock, o APIOptions, log *slog.Logger) *API {
	if o.MaxText <= 0 {
		o.MaxText = 500
	}
	return &API{writer: w, synth: s, store: st, engine: e, rejections: rejections, acceptance: acceptance,
		publicURL: strings.TrimRight(o.PublicURL, "/"), maxText: o.MaxText, token: o.ServiceToken, log: log}
}

// Idle reports whether no voice request is being served.
func (a *API) Idle() bool { return a.active.Load() == 0 }

// Routes mounts the original voice API paths and the audio files.
func (a *API) Routes(r chi.Router) {
	// The original's root answer, which its clients use as a liveness check.
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"service": "SOMS Voice Service", "status": "running"})
	})
	r.Route("/api/voice", func(r chi.Router) {
		r.Use(a.track)
		r.Post("/synthesize", a.synthesize)
		r.Post("/announce", a.announce)
		r.Post("/announce_with_completion", a.announceWithCompletion)
		r.Post("/feedback/{type}", a.feedback)
		r.Get("/credit", a.getCredit)
		for _, s := range []struct {
			path  string
			stock *Stock
			gen   func(context.Context) (string, string)
		}{
			{"rejection", a.rejections, a.writer.Rejection},
			{"acceptance", a.acceptance, a.writer.Acceptance},
		} {
			r.Get("/"+s.path+"/random", a.randomStock(s.stock, s.gen))
			r.Get("/"+s.path+"/status", func(w http.ResponseWriter, _ *http.Request) {
				httpx.WriteJSON(w, http.StatusOK, s.stock.Status())
			})
			r.Post("/"+s.path+"/clear", a.clearStock(s.stock))
		}
	})
	for _, prefix := range []string{"/audio", "/audio/rejections", "/audio/acceptances"} {
		r.Get(prefix+"/{file}", a.audio)
		r.Head(prefix+"/{file}", a.audio)
	}
}

func (a *API) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.active.Add(1)
		defer a.active.Add(-1)
		next.ServeHTTP(w, r)
	})
}

func (a *API) url(file string) string { return a.publicURL + "/audio/" + file }

// speak synthesises text and answers the error itself when it fails.
func (a *API) speak(w http.ResponseWriter, r *http.Request, text, tone string) (voice.Speech, bool) {
	au, err := a.synth.Speak(r.Context(), text, tone)
	if err != nil {
		a.synthFailed(w, err)
		return voice.Speech{}, false
	}
	return voice.NewSpeech(a.url(au.File), text, au.Duration), true
}

func (a *API) synthFailed(w http.ResponseWriter, err error) {
	var se *SynthError
	if errors.As(err, &se) {
		a.log.Warn("synthesis failed", "status", se.Status, "err", se.Msg)
		httpx.Error(w, se.Status, se.Msg)
		return
	}
	a.log.Error("synthesis failed", "err", err)
	httpx.Error(w, http.StatusInternalServerError, err.Error())
}

func (a *API) synthesize(w http.ResponseWriter, r *http.Request) {
	var req voice.SynthesizeRequest
	if !httpx.DecodeOrError(w, r, &req) {
		return
	}
	req.Text = strings.TrimSpace(req.Text)
	fields := map[string]string{}
	switch {
	case req.Text == "":
		fields["text"] = "required: the text to speak"
	case utf8.RuneCountInString(req.Text) > a.maxText:
		fields["text"] = "longer than the limit of " + strconv.Itoa(a.maxText) + " characters"
	}
	if !voice.ValidTone(req.Tone) {
		fields["tone"] = "must be one of " + strings.Join(voice.Tones, ", ")
	}
	if len(fields) > 0 {
		httpx.Invalid(w, fields)
		return
	}
	if sp, ok := a.speak(w, r, req.Text, req.Tone); ok {
		httpx.WriteJSON(w, http.StatusOK, sp)
	}
}

// decodeTask reads {"task": {...}} and validates it.
func decodeTask(w http.ResponseWriter, r *http.Request) (voice.Task, bool) {
	var req voice.AnnounceRequest
	if !httpx.DecodeOrError(w, r, &req) {
		return voice.Task{}, false
	}
	t := req.Task
	t.Title = strings.TrimSpace(t.Title)
	fields := map[string]string{}
	switch {
	case t.Title == "":
		fields["task.title"] = "required"
	case utf8.RuneCountInString(t.Title) > 200:
		fields["task.title"] = "longer than 200 characters"
	}
	if utf8.RuneCountInString(t.Description) > 2000 {
		fields["task.description"] = "longer than 2000 characters"
	}
	if t.Urgency < 0 || t.Urgency > 4 {
		fields["task.urgency"] = "must be 0–4"
	}
	if t.Bounty < 0 {
		fields["task.bounty"] = "must not be negative"
	}
	if len(fields) > 0 {
		httpx.Invalid(w, fields)
		return t, false
	}
	return t, true
}

func announceTone(t voice.Task) string {
	if t.Urgency >= 4 {
		return voice.ToneAlert
	}
	return voice.ToneNeutral
}

func (a *API) announce(w http.ResponseWriter, r *http.Request) {
	t, ok := decodeTask(w, r)
	if !ok {
		return
	}
	text, unit, source := a.writer.Announcement(r.Context(), t)
	sp, ok := a.speak(w, r, text, announceTone(t))
	if !ok {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, voice.Announcement{Speech: sp, RewardUnit: unit, Source: source})
}

func (a *API) announceWithCompletion(w http.ResponseWriter, r *http.Request) {
	t, ok := decodeTask(w, r)
	if !ok {
		return
	}
	var ann, done, unit string
	var g errgroup.Group
	g.Go(func() error { ann, unit, _ = a.writer.Announcement(r.Context(), t); return nil })
	g.Go(func() error { done, _ = a.writer.Completion(r.Context(), t); return nil })
	_ = g.Wait()

	var annAudio, doneAudio Audio
	g = errgroup.Group{}
	g.Go(func() (err error) { annAudio, err = a.synth.Speak(r.Context(), ann, announceTone(t)); return })
	g.Go(func() (err error) { doneAudio, err = a.synth.Speak(r.Context(), done, voice.ToneCaring); return })
	if err := g.Wait(); err != nil {
		a.synthFailed(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, voice.DualAnnouncement{
		AnnouncementAudioURL: a.url(annAudio.File), AnnouncementText: ann, AnnouncementDuration: annAudio.Duration,
		CompletionAudioURL: a.url(doneAudio.File), CompletionText: done, CompletionDuration: doneAudio.Duration,
		RewardUnit: unit,
	})
}

func (a *API) feedback(w http.ResponseWriter, r *http.Request) {
	kind := chi.URLParam(r, "type")
	text, _, ok := a.writer.Feedback(r.Context(), kind)
	if !ok {
		httpx.Invalid(w, map[string]string{"type": "must be one of " + strings.Join(FeedbackKinds, ", ")})
		return
	}
	if sp, ok := a.speak(w, r, text, voice.ToneCaring); ok {
		httpx.WriteJSON(w, http.StatusOK, sp)
	}
}

// randomStock pops a stock entry, or writes and speaks one on the spot when
// the stock is empty (slower, but never silent).
func (a *API) randomStock(s *Stock, gen func(context.Context) (string, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if e, file, ok := s.Pop(); ok {
			e.AudioURL = a.url(file)
			httpx.WriteJSON(w, http.StatusOK, e)
			return
		}
		text, _ := gen(r.Context())
		sp, ok := a.speak(w, r, text, voice.ToneNeutral)
		if !ok {
			return
		}
		httpx.WriteJSON(w, http.StatusOK, voice.StockEntry{AudioURL: sp.AudioURL, Text: sp.Text, Duration: sp.Duration})
	}
}

func (a *API) clearStock(s *Stock) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Service-Token")), []byte(a.token)) != 1 {
			httpx.Error(w, http.StatusForbidden, "invalid or missing X-Service-Token")
			return
		}
		s.Clear()
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "cleared", "stock_count": 0})
	}
}

// getCredit names the voice character, which VOICEVOX's terms require to be
// credited; the name comes from the engine's /speakers.
func (a *API) getCredit(w http.ResponseWriter, r *http.Request) {
	a.creditOnce.Lock()
	defer a.creditOnce.Unlock()
	if a.credit == "" {
		speakers, err := a.engine.Speakers(r.Context())
		if err != nil {
			httpx.Error(w, http.StatusBadGateway, "voice engine: "+err.Error())
			return
		}
		for _, sp := range speakers {
			for _, st := range sp.Styles {
				if st.ID == a.synth.speaker {
					a.credit = sp.Name
				}
			}
		}
		if a.credit == "" {
			httpx.Error(w, http.StatusBadGateway, "the engine has no style "+strconv.Itoa(a.synth.speaker)+" (VOICEVOX_SPEAKER)")
			return
		}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"engine": "VOICEVOX", "character": a.credit})
}

// audio serves a stored WAV file. Only content-addressed names are looked up,
// so no request reaches outside the audio directory.
func (a *API) audio(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "file")
	f, err := a.store.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			httpx.Error(w, http.StatusNotFound, "no such audio file")
			return
		}
		httpx.Error(w, http.StatusInternalServerError, "opening audio: "+err.Error())
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		httpx.Error(w, http.StatusInternalServerError, "opening audio: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	// Content-addressed: a name always means the same bytes.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, name, st.ModTime(), f)
}
