// Package mockllm is the simulator's OpenAI-compatible LLM: scripted rules turn
// prompts into tool calls in the exact OpenAI shape, injected faults make it
// misbehave like a real model server (latency, 500s, hangs, malformed JSON,
// <think> blocks, tool calls as text), and every request is recorded for
// assertions. A control API under /control changes rules and faults.
package mockllm

import "github.com/somsgo/soms/internal/service"

// Config is read from the environment; see `soms env mockllm`.
type Config struct {
	Common service.Common
	Addr   string `env:"MOCKLLM_ADDR" default:":8001" doc:"HTTP listen address"`
	Model  string `env:"MOCKLLM_MODEL" default:"mock-qwen" doc:"model id reported by /v1/models"`
	Keep   int    `env:"MOCKLLM_KEEP_REQUESTS" default:"1000" doc:"recorded requests kept for /control/requests"`
	Rules  string `env:"MOCKLLM_RULES" doc:"YAML or JSON rules file loaded at start (a list of rules, or {mode: prepend|replace, rules, faults})"`
	Seed   uint64 `env:"SOMS_SIM_SEED" default:"1" doc:"seed of rule pools and fault probabilities"`
}
