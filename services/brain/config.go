// Package brain is the cognitive core: it ingests the office's MQTT traffic into
// a world model and, on events or periodically, asks an OpenAI-compatible LLM
// what to do, executing the tool calls it answers with (ReAct) through the
// safety sanitizer. A deterministic rule engine takes over when the office is
// empty or the LLM is unavailable.
package brain

import (
	"time"

	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/service"
	"github.com/somsgo/soms/services/brain/rules"
)

// Config is read from the environment; see `soms env brain`.
type Config struct {
	Common     service.Common
	LLM        llm.Config
	Thresholds rules.Thresholds

	Addr         string `env:"BRAIN_ADDR" default:":8080" doc:"HTTP listen address (health, world model, devices, decisions)"`
	DashboardURL string `env:"DASHBOARD_API_URL" default:"http://localhost:8000" doc:"dashboard backend base URL"`
	VoiceURL     string `env:"VOICE_SERVICE_URL" doc:"voice service base URL; empty disables announcements and speech (speak still succeeds)"`
	ServiceToken string `env:"INTERNAL_SERVICE_TOKEN" doc:"shared secret sent as X-Service-Token on backend writes; production (SOMS_CLOCK=wall) refuses a missing, placeholder or short one (at least 16 bytes)"`
	DatabaseURL  string `env:"DATABASE_URL" doc:"PostgreSQL for the decision log (schema events); empty disables it"`
	RegionID     string `env:"SOMS_REGION_ID" default:"local" doc:"region id stamped on decision-log rows"`
	TimeZone     string `env:"SOMS_TZ" default:"Asia/Tokyo" doc:"office time zone (active hours 7–22 for task dispatch)"`

	CycleInterval    time.Duration `env:"BRAIN_CYCLE_INTERVAL" default:"30s" doc:"cycle period when no event arrives (normal mode, simulated time)"`
	MinCycleSpacing  time.Duration `env:"BRAIN_MIN_CYCLE_SPACING" default:"25s" doc:"minimum time between the end of one successful cycle and the next (normal mode)"`
	InactiveInterval time.Duration `env:"BRAIN_INACTIVE_CYCLE_INTERVAL" default:"300s" doc:"cycle period in inactive mode (office empty)"`
	InactiveSpacing  time.Duration `env:"BRAIN_INACTIVE_MIN_CYCLE_SPACING" default:"60s" doc:"minimum cycle spacing in inactive mode"`
	BatchDelay       time.Duration `env:"BRAIN_EVENT_BATCH_DELAY" default:"3s" doc:"wait after an event so related events join the same cycle"`
	MaxIterations    int           `env:"BRAIN_REACT_MAX_ITERATIONS" default:"5" doc:"LLM round trips per cycle"`
	CycleDeadline    time.Duration `env:"BRAIN_CYCLE_DEADLINE" default:"120s" doc:"longest a cycle waits on the LLM, in clock time (simulated time in simulation); then the rule engine decides that cycle"`
	BreakerFailures  int           `env:"BRAIN_LLM_BREAKER_FAILURES" default:"3" doc:"LLM failures in a row (errors, timeouts, the cycle deadline) that open the circuit breaker: the rule engine then decides at once"`
	BreakerOpen      time.Duration `env:"BRAIN_LLM_BREAKER_OPEN" default:"60s" doc:"how long the open breaker refuses LLM calls before one probe; doubles after each failed probe"`
	BreakerMaxOpen   time.Duration `env:"BRAIN_LLM_BREAKER_MAX_OPEN" default:"10m" doc:"longest open period of the LLM circuit breaker"`
	EventWindow      time.Duration `env:"BRAIN_RECENT_EVENT_WINDOW" default:"300s" doc:"events younger than this appear in the prompt"`
	FeedbackWindow   time.Duration `env:"BRAIN_FEEDBACK_WINDOW" default:"1800s" doc:"task reports younger than this appear as user feedback in the prompt"`
	MCPTimeout       time.Duration `env:"BRAIN_MCP_TIMEOUT" default:"10s" doc:"default device tool-call timeout (send_device_command adapts it to the device state)"`
	TrustAfter       time.Duration `env:"BRAIN_DEVICE_TRUST_AFTER" default:"3600s" doc:"cumulative online time after which a device is trusted and shown to the LLM"`
	DeviceAllowList  []string      `env:"BRAIN_DEVICE_ALLOWLIST" default:"light_01,pump_01,window_01,shelf_01,hvac_01" doc:"agents send_device_command may address (plus any swarm_hub*)"`
	ReminderAfter    time.Duration `env:"REMINDER_AFTER" default:"60m" doc:"remind about an open task this long after it was created"`
	ReminderCooldown time.Duration `env:"REMINDER_COOLDOWN" default:"30m" doc:"minimum time between two reminders of one task"`
	ReminderInterval time.Duration `env:"REMINDER_CHECK_INTERVAL" default:"300s" doc:"how often open tasks are checked for reminders"`
	SnapshotInterval time.Duration `env:"BRAIN_REGISTRY_SNAPSHOT_INTERVAL" default:"600s" doc:"how often the device registry is written to the decision log"`
	VoiceTimeout     time.Duration `env:"BRAIN_VOICE_TIMEOUT" default:"180s" doc:"timeout of the announcement request made when a task is created"`
	SpeakTimeout     time.Duration `env:"BRAIN_SPEAK_TIMEOUT" default:"60s" doc:"timeout of speech synthesis for the speak tool"`
	BackendTimeout   time.Duration `env:"BRAIN_BACKEND_TIMEOUT" default:"10s" doc:"timeout of one backend request"`
	InventoryRefresh time.Duration `env:"BRAIN_INVENTORY_REFRESH" default:"60s" doc:"how often the shelf items are read from the backend (/inventory/; clock time)"`
	InventoryPush    time.Duration `env:"BRAIN_INVENTORY_PUSH" default:"15s" doc:"how often the weighed stock is checked and, when it changed (or every 5 minutes), pushed to the backend's /inventory/live-status (clock time)"`
	ChitchatInterval time.Duration `env:"CHITCHAT_INTERVAL" default:"1500s" doc:"base period of friendly chit-chat to quiet zones; 0 disables chit-chat and its stock"`
	ChitchatJitter   time.Duration `env:"CHITCHAT_JITTER" default:"600s" doc:"random extra wait added to each chit-chat period"`
}
