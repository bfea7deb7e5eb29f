package mockllm

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/llm"
)

// Recorded is one chat request the mock answered, for assertions.
type Recorded struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Rule     string          `json:"rule"` // matched rule, "tool_result", "fallback" or "voice"
	Request  llm.ChatRequest `json:"request"`
	Response llm.Message     `json:"response"`
}

// Mock is the mock LLM: its rules and what it has answered.
type Mock struct {
	clock clock.Clock
	model string
	keep  int

	mu    sync.Mutex
	rules []Rule
	seq   int64
	log   []Recorded
}

// New returns a mock answering with the default rules and recording up to
// keep requests.
func New(c clock.Clock, model string, keep int) *Mock {
	rules, err := CompileRules(DefaultRules())
	if err != nil {
		panic(err) // the built-in table is a constant; a bad one is a programming error
	}
	return &Mock{clock: c, model: model, keep: keep, rules: rules}
}

// Routes mounts the OpenAI-compatible API and the control API.
func (m *Mock) Routes(r chi.Router) {
	r.Post("/v1/chat/completions", m.chat)
	r.Get("/v1/models", m.models)
	r.Route("/control", func(r chi.Router) {
		r.Get("/rules", m.getRules)
		r.Put("/rules", m.putRules)
		r.Get("/requests", m.getRequests)
		r.Delete("/requests", m.clearRequests)
		r.Post("/reset", m.reset)
	})
}

func (m *Mock) chat(w http.ResponseWriter, r *http.Request) {
	var req llm.ChatRequest
	if !httpx.DecodeOrError(w, r, &req) {
		return
	}
	if len(req.Messages) == 0 {
		httpx.Error(w, http.StatusBadRequest, "messages must not be empty")
		return
	}
	if req.Stream {
		httpx.Error(w, http.StatusBadRequest, "streaming is not supported by the mock LLM")
		return
	}
	msg, rule, err := m.decide(&req)
	if err != nil {
		httpx.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	m.record(rule, req, msg)
	finish := "stop"
	if len(msg.ToolCalls) > 0 {
		finish = "tool_calls"
	}
	model := req.Model
	if model == "" {
		model = m.model
	}
	httpx.WriteJSON(w, http.StatusOK, llm.ChatResponse{
		ID: "mock-" + randomHex(4), Object: "chat.completion", Created: m.clock.Now().Unix(), Model: model,
		Choices: []llm.Choice{{Index: 0, Message: msg, FinishReason: finish}},
		Usage:   &llm.Usage{PromptTokens: 10, CompletionTokens: 10, TotalTokens: 20},
	})
}

// decide picks the answer: a tool result ends the ReAct loop; otherwise the
// first matching rule; otherwise "nothing to do".
func (m *Mock) decide(req *llm.ChatRequest) (llm.Message, string, error) {
	if last := req.Messages[len(req.Messages)-1]; last.Role == llm.RoleTool {
		return llm.Message{Role: llm.RoleAssistant, Content: "対応しました。引き続き監視します。"}, "tool_result", nil
	}
	m.mu.Lock()
	rules := m.rules
	m.mu.Unlock()
	for i := range rules {
		if groups, ok := rules[i].match(req); ok {
			msg, err := rules[i].answer(groups, "call_"+randomHex(4))
			return msg, rules[i].Name, err
		}
	}
	if len(req.Tools) == 0 {
		return llm.Message{Role: llm.RoleAssistant, Content: "承知しました。"}, "voice", nil
	}
	return llm.Message{Role: llm.RoleAssistant, Content: "環境は正常です。対応は不要です。"}, "fallback", nil
}

func (m *Mock) record(rule string, req llm.ChatRequest, resp llm.Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	m.log = append(m.log, Recorded{Seq: m.seq, At: m.clock.Now(), Rule: rule, Request: req, Response: resp})
	if over := len(m.log) - m.keep; over > 0 {
		m.log = append(m.log[:0:0], m.log[over:]...)
	}
}

func (m *Mock) models(w http.ResponseWriter, _ *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, llm.ModelList{Object: "list", Data: []llm.Model{
		{ID: m.model, Object: "model", Created: 1700000000, OwnedBy: "soms-mock"},
	}})
}

func (m *Mock) getRules(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	httpx.WriteJSON(w, http.StatusOK, m.rules)
}

func (m *Mock) putRules(w http.ResponseWriter, r *http.Request) {
	var rules []Rule
	if !httpx.DecodeOrError(w, r, &rules) {
		return
	}
	compiled, err := CompileRules(rules)
	if err != nil {
		httpx.Error(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	m.mu.Lock()
	m.rules = compiled
	m.mu.Unlock()
	httpx.WriteJSON(w, http.StatusOK, compiled)
}

func (m *Mock) getRequests(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]Recorded{}, m.log...)
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (m *Mock) clearRequests(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	m.log = nil
	m.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (m *Mock) reset(w http.ResponseWriter, _ *http.Request) {
	rules, _ := CompileRules(DefaultRules())
	m.mu.Lock()
	m.rules, m.log = rules, nil
	m.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
