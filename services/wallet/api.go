package wallet

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/apidoc"
	"github.com/somsgo/soms/internal/httpx"
	api "github.com/somsgo/soms/internal/wallet"
	"github.com/somsgo/soms/services/wallet/openapi"
)

// API serves the wallet routes. Every route that reveals a balance, a history
// or a transaction, and every write, needs the X-Service-Token: the wallet
// answers SOMS services only. People read their own wallet through the
// backend (GET /wallet/..., the dashboard's /api/wallet/), which checks who
// they are and forwards with the token. Only the fee preview, which reveals
// nothing about anyone, is open (and health and metrics, on the internal
// network).
type API struct {
	ledger  *Ledger
	log     *slog.Logger
	token   []byte
	metrics *metrics
}

// NewAPI returns the handlers over ledger; reg receives the wallet metrics.
func NewAPI(ledger *Ledger, log *slog.Logger, token string, reg prometheus.Registerer) *API {
	return &API{ledger: ledger, log: log, token: []byte(token), metrics: newMetrics(reg)}
}

// Routes mounts the wallet's routes (paths of the original SOMS wallet) and
// its OpenAPI document (openapi/openapi.yaml, checked against them by test).
func (a *API) Routes(r chi.Router) {
	r.Route("/wallets", func(r chi.Router) {
		r.With(a.requireService("open")).Post("/", a.openWallet)
		r.With(a.requireService(kindRead)).Get("/leaderboard", a.leaderboard)
		r.With(a.requireService(kindRead)).Get("/{user_id}", a.getWallet)
		r.With(a.requireService(kindRead)).Get("/{user_id}/history", a.history)
	})
	r.Route("/transactions", func(r chi.Router) {
		r.With(a.requireService(api.KindTaskReward)).Post("/task-reward", a.taskReward)
		r.With(a.requireService(api.KindTransfer)).Post("/p2p-transfer", a.transfer)
		r.Get("/transfer-fee", a.transferFee)
		r.With(a.requireService(kindRead)).Get("/{id}", a.getTransaction)
	})
	r.Route("/admin", func(r chi.Router) {
		r.With(a.requireService(kindRead)).Get("/supply", a.supply)
		r.With(a.requireService(kindRead)).Get("/consistency", a.consistency)
		r.With(a.requireService(api.KindDemurrage)).Post("/demurrage/trigger", a.triggerDemurrage)
	})
	apidoc.MustLoad(openapi.YAML).Routes(r)
}

// kindRead labels refused reads in soms_wallet_failures_total.
const kindRead = "read"

func (a *API) requireService(kind string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got := r.Header.Get(api.ServiceTokenHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), a.token) != 1 {
				a.metrics.failures.WithLabelValues(kind, "unauthorized").Inc()
				msg := "missing " + api.ServiceTokenHeader + ": the wallet answers SOMS services only; people read their wallet through the backend (/api/wallet/ on the dashboard)"
				if got != "" {
					msg = "wrong " + api.ServiceTokenHeader
				}
				httpx.Error(w, http.StatusUnauthorized, msg)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// fail writes the response for a ledger error and counts it.
func (a *API) fail(w http.ResponseWriter, r *http.Request, kind string, err error) {
	var fe FieldErrors
	reason, status := "error", http.StatusInternalServerError
	switch {
	case errors.As(err, &fe):
		a.metrics.failures.WithLabelValues(kind, "invalid").Inc()
		httpx.Invalid(w, fe)
		return
	case errors.Is(err, ErrNotFound):
		reason, status = "not_found", http.StatusNotFound
	case errors.Is(err, ErrInsufficient):
		reason, status = "insufficient", http.StatusConflict
	case errors.Is(err, ErrConflict):
		reason, status = "conflict", http.StatusConflict
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		reason, status = "canceled", 499
	}
	if kind != "" {
		a.metrics.failures.WithLabelValues(kind, reason).Inc()
	}
	if status == http.StatusInternalServerError {
		a.log.ErrorContext(r.Context(), "wallet request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		httpx.Error(w, status, "internal error; see the wallet log")
		return
	}
	httpx.Error(w, status, err.Error())
}

func (a *API) written(w http.ResponseWriter, t api.Transaction) {
	if t.Duplicate {
		a.metrics.duplicates.WithLabelValues(t.Kind).Inc()
		httpx.WriteJSON(w, http.StatusOK, t)
		return
	}
	a.metrics.transactions.WithLabelValues(t.Kind).Inc()
	a.metrics.amount.WithLabelValues(t.Kind).Add(float64(t.Amount))
	httpx.WriteJSON(w, http.StatusCreated, t)
}

func (a *API) taskReward(w http.ResponseWriter, r *http.Request) {
	var in api.TaskReward
	if !httpx.DecodeOrError(w, r, &in) {
		a.metrics.failures.WithLabelValues(api.KindTaskReward, "invalid").Inc()
		return
	}
	t, err := a.ledger.PayTaskReward(r.Context(), in)
	if err != nil {
		a.fail(w, r, api.KindTaskReward, err)
		return
	}
	a.written(w, t)
}

func (a *API) transfer(w http.ResponseWriter, r *http.Request) {
	var in api.Transfer
	if !httpx.DecodeOrError(w, r, &in) {
		a.metrics.failures.WithLabelValues(api.KindTransfer, "invalid").Inc()
		return
	}
	if h := r.Header.Get(api.IdempotencyKeyHeader); h != "" {
		if in.IdempotencyKey != "" && in.IdempotencyKey != h {
			a.metrics.failures.WithLabelValues(api.KindTransfer, "invalid").Inc()
			httpx.Invalid(w, map[string]string{"idempotency_key": "differs from the Idempotency-Key header"})
			return
		}
		in.IdempotencyKey = h
	}
	t, err := a.ledger.Transfer(r.Context(), in)
	if err != nil {
		a.fail(w, r, api.KindTransfer, err)
		return
	}
	a.written(w, t)
}

func (a *API) openWallet(w http.ResponseWriter, r *http.Request) {
	var in api.OpenWallet
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	wl, created, err := a.ledger.Open(r.Context(), in.UserID)
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, wl)
}

// intParam parses a path or query integer, writing a 422 when it is not one.
func intParam(w http.ResponseWriter, name, raw string) (int64, bool) {
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		httpx.Invalid(w, map[string]string{name: "must be an integer"})
		return 0, false
	}
	return v, true
}

// limitParam reads ?limit= in [1, max], default def.
func limitParam(w http.ResponseWriter, r *http.Request, def, max int) (int, bool) {
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		httpx.Invalid(w, map[string]string{"limit": "must be an integer from 1 to " + strconv.Itoa(max)})
		return 0, false
	}
	return n, true
}

func (a *API) getWallet(w http.ResponseWriter, r *http.Request) {
	id, ok := intParam(w, "user_id", chi.URLParam(r, "user_id"))
	if !ok {
		return
	}
	wl, err := a.ledger.Wallet(r.Context(), id)
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, wl)
}

func (a *API) history(w http.ResponseWriter, r *http.Request) {
	id, ok := intParam(w, "user_id", chi.URLParam(r, "user_id"))
	if !ok {
		return
	}
	limit, ok := limitParam(w, r, 50, MaxPage)
	if !ok {
		return
	}
	var before int64
	if raw := r.URL.Query().Get("before"); raw != "" {
		if before, ok = intParam(w, "before", raw); !ok {
			return
		}
	}
	h, err := a.ledger.History(r.Context(), id, limit, before)
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, h)
}

func (a *API) leaderboard(w http.ResponseWriter, r *http.Request) {
	limit, ok := limitParam(w, r, 10, 100)
	if !ok {
		return
	}
	lb, err := a.ledger.Leaderboard(r.Context(), limit)
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, lb)
}

func (a *API) transferFee(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("amount")
	if raw == "" {
		httpx.Invalid(w, map[string]string{"amount": "is required (milli-units)"})
		return
	}
	amount, ok := intParam(w, "amount", raw)
	if !ok {
		return
	}
	f := FieldErrors{}
	validAmount(f, "amount", amount)
	if len(f) > 0 {
		httpx.Invalid(w, f)
		return
	}
	p, err := a.ledger.FeePreview(r.Context(), amount)
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

func (a *API) getTransaction(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if !isUUID(id) {
		httpx.Invalid(w, map[string]string{"id": "must be a transaction UUID"})
		return
	}
	t, err := a.ledger.Transaction(r.Context(), id)
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, t)
}

func (a *API) supply(w http.ResponseWriter, r *http.Request) {
	s, err := a.ledger.Supply(r.Context())
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, s)
}

func (a *API) consistency(w http.ResponseWriter, r *http.Request) {
	c, err := a.ledger.Consistency(r.Context())
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	status := http.StatusOK
	if !c.OK {
		status = http.StatusInternalServerError
	}
	httpx.WriteJSON(w, status, c)
}

func (a *API) triggerDemurrage(w http.ResponseWriter, r *http.Request) {
	d, err := a.ledger.Demurrage(r.Context(), a.ledger.clock.Now())
	a.demurrageDone(d, err)
	if err != nil {
		a.fail(w, r, api.KindDemurrage, err)
		return
	}
	status := http.StatusCreated
	if d.Duplicate {
		status = http.StatusOK
	}
	httpx.WriteJSON(w, status, d)
}

// demurrageDone counts and logs one demurrage run (trigger or loop).
func (a *API) demurrageDone(d api.Demurrage, err error) {
	switch {
	case err != nil:
		a.metrics.demurrage.WithLabelValues("error").Inc()
		a.log.Error("demurrage failed", "period", d.Period, "err", err)
	case d.Duplicate:
		a.metrics.demurrage.WithLabelValues("duplicate").Inc()
	default:
		a.metrics.demurrage.WithLabelValues("charged").Inc()
		a.metrics.transactions.WithLabelValues(api.KindDemurrage).Add(float64(d.Charged))
		a.metrics.amount.WithLabelValues(api.KindDemurrage).Add(float64(d.Burned))
		a.log.Info("demurrage charged", "period_start", d.PeriodStart, "wallets", d.Charged, "burned_milli", d.Burned)
	}
}

// isUUID accepts the canonical 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'):
		default:
			return false
		}
	}
	return true
}
