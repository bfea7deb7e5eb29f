// Package scenario runs QA-authored office scenarios: a YAML file names a
// layout, a seed, a start time and speed, mock-LLM rules, a timeline of
// simulator steps at simulated offsets and expectations observed only through
// product interfaces (backend API, MQTT, brain HTTP, wallet API). Run starts
// the native stack through sim/harness, drives it through the simulators'
// control APIs and the shared clock, evaluates the expectations and writes a
// report: JUnit XML, a JSON timeline and an HTML page with plots.
package scenario

import (
	"time"

	"github.com/somsgo/soms/sim/mockllm"
)

// Scenario is one parsed scenario file.
type Scenario struct {
	// File is where it was read from (for messages and relative paths).
	File        string        `yaml:"-"`
	Name        string        `yaml:"name"`
	Description string        `yaml:"description"`
	Seed        uint64        `yaml:"seed"`
	Start       time.Time     `yaml:"start"`
	Speed       float64       `yaml:"speed"`
	Duration    time.Duration `yaml:"duration"`
	// Layout is the edge layout: builtin:office, builtin:meeting,
	// builtin:original, or a JSON file relative to the scenario.
	Layout string `yaml:"layout"`
	// Cameras adds the virtual cameras and perception to the stack, so
	// occupancy, activity and falls are seen by the product's perception.
	Cameras  bool          `yaml:"cameras"`
	LLM      LLM           `yaml:"llm"`
	Timeline []Step        `yaml:"timeline"`
	Expect   []Expectation `yaml:"expect"`
}

// LLM configures the mock LLM before the clock starts.
type LLM struct {
	// Mode is prepend (default: scenario rules go before the built-in ones)
	// or replace.
	Mode   string          `yaml:"mode"`
	Rules  []mockllm.Rule  `yaml:"rules"`
	Faults []mockllm.Fault `yaml:"faults"`
}

// Step is one timeline entry: at a simulated offset from the start, one
// action (its Kind is the key that names it in the file).
type Step struct {
	Line int
	At   time.Duration
	Note string
	Kind string

	People   *PeopleStep
	Zone     *ZoneStep
	Person   *PersonStep
	Scene    *SceneStep
	Ramp     *RampStep
	Fault    *FaultStep
	Outside  *OutsideStep
	LLMFault *LLMFaultStep
	LLMRules *LLM
	Clock    *ClockStep
	Publish  *PublishStep
	Process  *ProcessStep
	Complete *CompleteTaskStep
}

// Step kinds, the keys of a timeline entry.
const (
	StepPeople   = "people"
	StepZone     = "zone"
	StepPerson   = "person"
	StepScene    = "scene"
	StepRamp     = "ramp"
	StepFault    = "fault"
	StepOutside  = "outside"
	StepLLMFault = "llm_fault"
	StepLLMRules = "llm_rules"
	StepClock    = "clock"
	StepPublish  = "publish"
	StepProcess  = "process"
	StepComplete = "complete_task"
)

// ProcessStep is a fault for QA: it kills (as a crash), starts again or
// restarts a service, the broker (mosquitto) or the database (postgres). A
// killed process stays down until a start step; one that dies on its own is
// restarted by the harness.
type ProcessStep struct {
	Name   string `yaml:"name"`
	Action string `yaml:"action"`
}

// Process step actions.
const (
	ProcessKill    = "kill"
	ProcessStart   = "start"
	ProcessRestart = "restart"
)

// CompleteTaskStep has a person (given an account on first use) accept and
// complete the oldest open task matching title and zone, as on the
// dashboard: the completion and its reward are writes the system
// acknowledges, which nothing_lost checks survive later faults.
type CompleteTaskStep struct {
	Person string `yaml:"person"`
	Title  string `yaml:"title"`
	Zone   string `yaml:"zone"`
}

// PeopleStep sets a zone's head count (generated people come and go).
type PeopleStep struct {
	Zone  string `yaml:"zone"`
	Count int    `yaml:"count"`
}

// ZoneStep sets zone conditions (PATCH /zones/{id} of the edge).
type ZoneStep struct {
	Zone         string   `yaml:"zone" json:"-"`
	CO2          *float64 `yaml:"co2" json:"co2,omitempty"`
	Temperature  *float64 `yaml:"temperature" json:"temperature,omitempty"`
	Humidity     *float64 `yaml:"humidity" json:"humidity,omitempty"`
	Illuminance  *float64 `yaml:"illuminance" json:"illuminance,omitempty"`
	WindowOpen   *bool    `yaml:"window_open" json:"window_open,omitempty"`
	LightsOn     *bool    `yaml:"lights_on" json:"lights_on,omitempty"`
	HVACSetpoint *float64 `yaml:"hvac_setpoint" json:"hvac_setpoint,omitempty"`
	HVACOff      bool     `yaml:"hvac_off" json:"hvac_off,omitempty"`
	DaylightLux  *float64 `yaml:"daylight_lux" json:"daylight_lux,omitempty"`
}

// PersonStep adds, changes or removes one person.
type PersonStep struct {
	Zone    string   `yaml:"zone"`
	ID      string   `yaml:"id"`
	Posture string   `yaml:"posture"`
	X       *float64 `yaml:"x"`
	Y       *float64 `yaml:"y"`
	Motion  *float64 `yaml:"motion"`
	// Action is add (default when the person is new), update or remove.
	Action string `yaml:"action"`
}

// SceneStep replaces a zone's people.
type SceneStep struct {
	Zone   string        `yaml:"zone"`
	People []ScenePerson `yaml:"people"`
}

// ScenePerson is one figure of a SceneStep.
type ScenePerson struct {
	ID      string  `yaml:"id" json:"id"`
	X       float64 `yaml:"x" json:"x"`
	Y       float64 `yaml:"y" json:"y"`
	Posture string  `yaml:"posture" json:"posture"`
	Motion  float64 `yaml:"motion" json:"motion"`
}

// RampStep moves a zone quantity linearly over simulated time.
type RampStep struct {
	Zone    string        `yaml:"zone"`
	Channel string        `yaml:"channel"`
	From    *float64      `yaml:"from"`
	To      float64       `yaml:"to"`
	Over    time.Duration `yaml:"over"`
}

// FaultStep sets (or clears) a device fault on the edge.
type FaultStep struct {
	Device       string             `yaml:"device" json:"-"`
	Clear        bool               `yaml:"clear" json:"-"`
	Offline      bool               `yaml:"offline" json:"offline,omitempty"`
	Dropout      float64            `yaml:"dropout" json:"dropout,omitempty"`
	Noise        float64            `yaml:"noise" json:"noise,omitempty"`
	DriftPerHour map[string]float64 `yaml:"drift_per_hour" json:"drift_per_hour,omitempty"`
	Tamper       map[string]float64 `yaml:"tamper" json:"tamper,omitempty"`
	Override     map[string]float64 `yaml:"override" json:"override,omitempty"`
}

// OutsideStep changes the weather.
type OutsideStep struct {
	MeanC         *float64 `yaml:"mean_c" json:"mean_c,omitempty"`
	AmplitudeC    *float64 `yaml:"amplitude_c" json:"amplitude_c,omitempty"`
	Cloud         *float64 `yaml:"cloud" json:"cloud,omitempty"`
	Humidity      *float64 `yaml:"humidity" json:"humidity,omitempty"`
	OverrideC     *float64 `yaml:"override_c" json:"override_c,omitempty"`
	ClearOverride bool     `yaml:"clear_override" json:"clear_override,omitempty"`
}

// LLMFaultStep adds a mock-LLM fault, or clears them all.
type LLMFaultStep struct {
	mockllm.Fault `yaml:",inline"`
	Clear         bool `yaml:"clear"`
}

// ClockStep changes the speed, or pauses simulated time for a wall duration.
type ClockStep struct {
	Speed *float64      `yaml:"speed"`
	Pause time.Duration `yaml:"pause"`
}

// PublishStep publishes a raw MQTT message as the simulator (user sim), for
// devices the layout does not have.
type PublishStep struct {
	Topic   string `yaml:"topic"`
	Payload any    `yaml:"payload"`
	Retain  bool   `yaml:"retain"`
}

// Expectation is one check on the product's behaviour within a window of
// simulated time [After, After+Within] from the start.
type Expectation struct {
	Line int
	Kind string

	After  time.Duration
	Within time.Duration

	Task    *TaskMatch
	Command *CommandMatch
	Voice   *VoiceMatch
	LLM     *LLMMatch
	Wallet  *WalletCheck
	World   *WorldCheck
	Event   *EventMatch
	Lost    *NothingLost
}

// Expectation kinds, the keys of an expect entry.
const (
	ExpectTaskCreated     = "task_created"
	ExpectTaskNotCreated  = "task_not_created"
	ExpectDeviceCommand   = "device_command"
	ExpectNoDeviceCommand = "no_device_command"
	ExpectVoiceEvent      = "voice_event"
	ExpectLLMRequests     = "llm_requests"
	ExpectWalletBalance   = "wallet_balance"
	ExpectWorld           = "world"
	ExpectBrainEvent      = "brain_event"
	ExpectNothingLost     = "nothing_lost"
)

// Window is the simulated-time window shared by every expectation.
type Window struct {
	After  time.Duration `yaml:"after"`
	Within time.Duration `yaml:"within"`
}

// TaskMatch selects tasks on the dashboard backend.
type TaskMatch struct {
	Window `yaml:",inline"`
	// Title is a substring of the task title (empty: any).
	Title string `yaml:"title"`
	Zone  string `yaml:"zone"`
	// Type is one of the task types (environment, supply, urgent, ...).
	Type       string `yaml:"type"`
	MinUrgency *int   `yaml:"min_urgency"`
	// Count is how many distinct matching tasks at least (task_created,
	// default 1) or at most (task_created with exactly) are expected.
	Count   int  `yaml:"count"`
	Exactly bool `yaml:"exactly"`
}

// CommandMatch selects MCP tool calls seen on mcp/{agent}/request/call_tool.
type CommandMatch struct {
	Window `yaml:",inline"`
	Agent  string         `yaml:"agent"`
	Tool   string         `yaml:"tool"`
	Args   map[string]any `yaml:"args"`
}

// VoiceMatch selects voice events on the backend.
type VoiceMatch struct {
	Window   `yaml:",inline"`
	Zone     string `yaml:"zone"`
	Contains string `yaml:"contains"`
	Tone     string `yaml:"tone"`
}

// LLMMatch counts requests the brain (or voice) sent to the mock LLM.
type LLMMatch struct {
	Window  `yaml:",inline"`
	Rule    string `yaml:"rule"`
	Tool    string `yaml:"tool"`
	Fault   string `yaml:"fault"`
	AtLeast int    `yaml:"at_least"`
	AtMost  *int   `yaml:"at_most"`
}

// WalletCheck reads a wallet balance (GET /wallets/{user}).
type WalletCheck struct {
	Window  `yaml:",inline"`
	User    int64    `yaml:"user"`
	AtLeast *float64 `yaml:"at_least"`
	AtMost  *float64 `yaml:"at_most"`
}

// WorldCheck reads a value from the brain's world model
// (GET /world/zones/{zone}) at a dotted path, e.g. channels.co2.value.
type WorldCheck struct {
	Window `yaml:",inline"`
	Zone   string   `yaml:"zone"`
	Path   string   `yaml:"path"`
	Above  *float64 `yaml:"above"`
	Below  *float64 `yaml:"below"`
	Equals any      `yaml:"equals"`
	// Always requires every sample in the window to match (default: any).
	Always bool `yaml:"always"`
}

// EventMatch selects world-model events (GET /world/events of the brain),
// e.g. co2_threshold_exceeded or sensor_tamper.
type EventMatch struct {
	Window `yaml:",inline"`
	Zone   string `yaml:"zone"`
	Type   string `yaml:"type"`
}

// NothingLost requires that what the system acknowledged during the run is
// all still there at the end, whatever faults came in between: every task
// the backend listed, every completion it accepted (complete_task steps) and
// every wallet ledger entry it showed for the scenario's people. AtLeast is
// how many tasks must have been acknowledged for the check to mean anything
// (default 1).
type NothingLost struct {
	Window  `yaml:",inline"`
	AtLeast int `yaml:"at_least"`
}
