package mockllm

import (
	"encoding/json"
	"fmt"
	"time"
)

// Fault kinds: what goes wrong with an answer.
const (
	// FaultLatency delays the answer by Latency of simulated time.
	FaultLatency = "latency"
	// FaultError answers with HTTP Status (default 500) and an error body.
	FaultError = "error"
	// FaultTimeout never answers: the request hangs until the client gives up.
	FaultTimeout = "timeout"
	// FaultMalformed answers 200 with a body that is not valid JSON.
	FaultMalformed = "malformed"
	// FaultThink prefixes the content with a <think>…</think> block, as
	// reasoning models do.
	FaultThink = "think"
	// FaultTextToolCalls writes the tool calls into the content as text
	// (<tool_call>{...}</tool_call>) instead of the tool_calls field.
	FaultTextToolCalls = "text_tool_calls"
)

// Fault scopes: which requests a fault applies to.
const (
	FaultScopeAll   = ""      // every request
	FaultScopeTools = "tools" // requests offering tools (the brain)
	FaultScopeVoice = "voice" // requests without tools (the voice service)
)

// Fault is one injected misbehaviour. Faults apply in order; several may
// apply to one request (latency and think combine with the others).
type Fault struct {
	Kind string `json:"kind" yaml:"kind"`
	// Count is how many requests it applies to; 0 means until removed.
	Count int `json:"count,omitempty" yaml:"count,omitempty"`
	// Probability that it applies to a given request (0 means 1), drawn
	// from the mock's seeded generator.
	Probability float64 `json:"probability,omitempty" yaml:"probability,omitempty"`
	// Latency for kind latency, simulated time ("30s").
	Latency Duration `json:"latency,omitempty" yaml:"latency,omitempty"`
	// Status for kind error (default 500).
	Status int `json:"status,omitempty" yaml:"status,omitempty"`
	// Scope is "" (all), tools or voice.
	Scope string `json:"scope,omitempty" yaml:"scope,omitempty"`
	// Used counts the requests it has applied to.
	Used int `json:"used" yaml:"used,omitempty"`
}

// Validate checks a fault.
func (f *Fault) Validate() error {
	switch f.Kind {
	case FaultLatency:
		if f.Latency <= 0 {
			return fmt.Errorf("fault latency: needs a positive latency")
		}
	case FaultError:
		if f.Status == 0 {
			f.Status = 500
		}
		if f.Status < 400 || f.Status > 599 {
			return fmt.Errorf("fault error: status must be 400..599")
		}
	case FaultTimeout, FaultMalformed, FaultThink, FaultTextToolCalls:
	default:
		return fmt.Errorf("fault kind %q: must be latency, error, timeout, malformed, think or text_tool_calls", f.Kind)
	}
	if f.Count < 0 {
		return fmt.Errorf("fault %s: count must not be negative", f.Kind)
	}
	if f.Probability < 0 || f.Probability > 1 {
		return fmt.Errorf("fault %s: probability must be between 0 and 1", f.Kind)
	}
	switch f.Scope {
	case FaultScopeAll, FaultScopeTools, FaultScopeVoice:
	default:
		return fmt.Errorf("fault %s: scope must be tools, voice or empty", f.Kind)
	}
	return nil
}

func (f *Fault) exhausted() bool { return f.Count > 0 && f.Used >= f.Count }

func (f *Fault) inScope(tools bool) bool {
	switch f.Scope {
	case FaultScopeTools:
		return tools
	case FaultScopeVoice:
		return !tools
	}
	return true
}

// Duration is a time.Duration written as "30s" (a number is seconds).
type Duration time.Duration

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "30s" or seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration: want \"30s\" or seconds")
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// UnmarshalText lets YAML read "30s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
