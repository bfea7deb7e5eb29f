package backend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/httpx"
)

// maxChitchatStock bounds the stock; the oldest phrases go first.
const maxChitchatStock = 100

type voiceStore struct{ pool *pgxpool.Pool }

func (s *voiceStore) add(ctx context.Context, ev backendapi.VoiceEvent, now time.Time) (backendapi.VoiceEvent, error) {
	ev.CreatedAt = now
	err := s.pool.QueryRow(ctx, `INSERT INTO dashboard.voice_events (message, audio_url, zone, tone, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, ev.Message, ev.AudioURL, ev.Zone, ev.Tone, now).Scan(&ev.ID)
	if err != nil {
		return ev, fmt.Errorf("store voice event: %w", err)
	}
	return ev, nil
}

func (s *voiceStore) recent(ctx context.Context, zone string, since *time.Time, limit int) ([]backendapi.VoiceEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, message, audio_url, zone, tone, created_at FROM dashboard.voice_events
		WHERE ($1 = '' OR zone = $1 OR zone = '') AND ($2::timestamptz IS NULL OR created_at > $2)
		ORDER BY created_at DESC, id DESC LIMIT $3`, zone, since, limit)
	if err != nil {
		return nil, fmt.Errorf("recent voice events: %w", err)
	}
	evs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[backendapi.VoiceEvent])
	if err != nil {
		return nil, fmt.Errorf("recent voice events: %w", err)
	}
	if evs == nil {
		evs = []backendapi.VoiceEvent{}
	}
	return evs, nil
}

func (s *voiceStore) stock(ctx context.Context, c backendapi.Chitchat, now time.Time) (backendapi.Chitchat, error) {
	c.CreatedAt = now
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO dashboard.chitchat_stock (message, audio_url, tone, created_at)
			VALUES ($1, $2, $3, $4) RETURNING id`, c.Message, c.AudioURL, c.Tone, now).Scan(&c.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM dashboard.chitchat_stock WHERE id NOT IN
			(SELECT id FROM dashboard.chitchat_stock ORDER BY id DESC LIMIT $1)`, maxChitchatStock)
		return err
	})
	if err != nil {
		return c, fmt.Errorf("stock chitchat: %w", err)
	}
	return c, nil
}

// take removes and returns a random phrase, or errNotFound when out of stock.
func (s *voiceStore) take(ctx context.Context) (backendapi.Chitchat, error) {
	var c backendapi.Chitchat
	err := s.pool.QueryRow(ctx, `DELETE FROM dashboard.chitchat_stock WHERE id =
		(SELECT id FROM dashboard.chitchat_stock ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING id, message, audio_url, tone, created_at`).Scan(&c.ID, &c.Message, &c.AudioURL, &c.Tone, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, errNotFound
	}
	return c, err
}

func (s *voiceStore) stockSize(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM dashboard.chitchat_stock`).Scan(&n)
	return n, err
}

func (a *API) voiceRoutes(r chi.Router) {
	r.Route("/voice-events", func(r chi.Router) {
		r.With(a.requireService).Post("/", a.postVoiceEvent)
		r.Get("/recent", a.recentVoiceEvents)
		r.With(a.requireService).Post("/chitchat-stock", a.stockChitchat)
		r.Get("/chitchat-stock/random", a.randomChitchat)
		r.Get("/chitchat-stock/status", a.chitchatStatus)
	})
}

func (a *API) postVoiceEvent(w http.ResponseWriter, r *http.Request) {
	var in backendapi.VoiceEvent
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	if bad := in.Validate(); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	ev, err := a.voice.add(r.Context(), in, a.clock.Now())
	if err != nil {
		a.log.ErrorContext(r.Context(), "voice event", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not store the voice event")
		return
	}
	a.hub.Publish(EventVoiceCreated, ev)
	httpx.WriteJSON(w, http.StatusOK, ev)
}

// recentVoiceEvents lists the newest events; ?zone= keeps that zone's and
// broadcast ones, ?since= (RFC 3339) only newer ones.
func (a *API) recentVoiceEvents(w http.ResponseWriter, r *http.Request) {
	limit, ok := limitParam(w, r, 20, 200)
	if !ok {
		return
	}
	var since *time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			httpx.Error(w, http.StatusBadRequest, "since must be an RFC 3339 time")
			return
		}
		since = &t
	}
	evs, err := a.voice.recent(r.Context(), r.URL.Query().Get("zone"), since, limit)
	if err != nil {
		a.log.ErrorContext(r.Context(), "recent voice events", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not read voice events")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, evs)
}

func (a *API) stockChitchat(w http.ResponseWriter, r *http.Request) {
	var in backendapi.Chitchat
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	if bad := in.Validate(); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	c, err := a.voice.stock(r.Context(), in, a.clock.Now())
	if err != nil {
		a.log.ErrorContext(r.Context(), "stock chitchat", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not stock the phrase")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

func (a *API) randomChitchat(w http.ResponseWriter, r *http.Request) {
	c, err := a.voice.take(r.Context())
	switch {
	case errors.Is(err, errNotFound):
		httpx.Error(w, http.StatusNotFound, "the chit-chat stock is empty")
	case err != nil:
		a.log.ErrorContext(r.Context(), "take chitchat", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not read the stock")
	default:
		httpx.WriteJSON(w, http.StatusOK, c)
	}
}

func (a *API) chitchatStatus(w http.ResponseWriter, r *http.Request) {
	n, err := a.voice.stockSize(r.Context())
	if err != nil {
		a.log.ErrorContext(r.Context(), "chitchat status", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not count the stock")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, backendapi.ChitchatStatus{StockSize: n})
}
