package backend

import (
	"log/slog"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/somsgo/soms/internal/clock"
)

// API holds the handlers' dependencies.
type API struct {
	tasks *taskStore
	clock clock.Clock
	log   *slog.Logger
	token string
}

// NewAPI returns the backend's handlers over an already migrated database.
func NewAPI(pool *pgxpool.Pool, c clock.Clock, log *slog.Logger, serviceToken, region string) *API {
	return &API{tasks: &taskStore{pool: pool, region: region}, clock: c, log: log, token: serviceToken}
}

// Routes is the backend's one route table. Paths keep the original SOMS
// trailing slashes, which the brain and existing clients call.
func (a *API) Routes(r chi.Router) {
	r.Route("/tasks", func(r chi.Router) {
		r.Get("/", a.listTasks)
		r.With(a.requireService).Post("/", a.createTask)
		r.Get("/{id}", a.getTask)
	})
}
