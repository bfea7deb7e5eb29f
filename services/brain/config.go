// Package brain is the cognitive core: it ingests the office's MQTT traffic into
// a world model and, on events or periodically, asks an OpenAI-compatible LLM
// what to do, executing the tool calls it answers with (ReAct).
package brain

import (
	"time"

	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/service"
)

// Config is read from the environment; see `soms env brain`.
type Config struct {
	Common          service.Common
	LLM             llm.Config
	Addr            string        `env:"BRAIN_ADDR" default:":8080" doc:"HTTP listen address (health, world model, devices)"`
	DashboardURL    string        `env:"DASHBOARD_API_URL" default:"http://localhost:8000" doc:"dashboard backend base URL"`
	ServiceToken    string        `env:"INTERNAL_SERVICE_TOKEN" doc:"shared secret sent as X-Service-Token on backend writes"`
	CycleInterval   time.Duration `env:"BRAIN_CYCLE_INTERVAL" default:"30s" doc:"cycle period when no event arrives (simulated time)"`
	MinCycleSpacing time.Duration `env:"BRAIN_MIN_CYCLE_SPACING" default:"25s" doc:"minimum time between the end of one successful cycle and the next"`
	BatchDelay      time.Duration `env:"BRAIN_EVENT_BATCH_DELAY" default:"3s" doc:"wait after an event so related events join the same cycle"`
	MaxIterations   int           `env:"BRAIN_REACT_MAX_ITERATIONS" default:"5" doc:"LLM round trips per cycle"`
	EventWindow     time.Duration `env:"BRAIN_RECENT_EVENT_WINDOW" default:"300s" doc:"events younger than this appear in the prompt"`
}
