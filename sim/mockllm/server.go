package mockllm

import (
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/llm"
)

// maxHang bounds a timeout fault when the client never gives up.
const maxHang = 10 * time.Minute

// Recorded is one chat request the mock answered, for assertions.
type Recorded struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Rule     string          `json:"rule"` // matched rule, "tool_result", "fallback" or "voice"
	Request  llm.ChatRequest `json:"request"`
	Response llm.Message     `json:"response"`
	// Faults applied to this answer, and the HTTP status sent (0: none, the
	// request hung until the client gave up).
	Faults []string `json:"faults,omitempty"`
	Status int      `json:"status"`
}

// Mock is the mock LLM: its rules, injected faults and what it has answered.
type Mock struct {
	clock clock.Clock
	model string
	keep  int

	mu     sync.Mutex
	rules  []Rule
	faults []*Fault
	rng    *rand.Rand
	seq    int64
	log    []Recorded
}

// New returns a mock answering with the default rules and recording up to
// keep requests.
func New(c clock.Clock, model string, keep int) *Mock {
	rules, err := CompileRules(DefaultRules())
	if err != nil {
		panic(err) // the built-in table is a constant; a bad one is a programming error
	}
	return &Mock{clock: c, model: model, keep: keep, rules: rules, rng: rand.New(rand.NewPCG(1, 0x11a))}
}

// SetSeed reseeds the generator behind rule pools and fault probabilities.
func (m *Mock) SetSeed(seed uint64) {
	m.mu.Lock()
	m.rng = rand.New(rand.NewPCG(seed, 0x11a))
	m.mu.Unlock()
}

// Apply installs a rule set: its rules replace the table or go before it,
// and its faults are added.
func (m *Mock) Apply(rs RuleSet) error {
	compiled, err := CompileRules(rs.Rules)
	if err != nil {
		return err
	}
	for i := range rs.Faults {
		if err := rs.Faults[i].Validate(); err != nil {
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rs.Mode == ModeReplace {
		m.rules = compiled
	} else {
		m.rules = append(compiled, m.rules...)
	}
	for i := range rs.Faults {
		f := rs.Faults[i]
		f.Used = 0
		m.faults = append(m.faults, &f)
	}
	return nil
}

// Routes mounts the OpenAI-compatible API and the control API.
func (m *Mock) Routes(r chi.Router) {
	r.Post("/v1/chat/completions", m.chat)
	r.Get("/v1/models", m.models)
	r.Get("/health", func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "service": "mock-llm"})
	})
	r.Route("/control", func(r chi.Router) {
		r.Get("/rules", m.getRules)
		r.Put("/rules", m.putRules)
		r.Post("/rules", m.postRules)
		r.Get("/faults", m.getFaults)
		r.Put("/faults", m.putFaults)
		r.Post("/faults", m.postFault)
		r.Delete("/faults", m.clearFaults)
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
	faults := m.pickFaults(len(req.Tools) > 0)
	var names []string
	for _, f := range faults {
		names = append(names, f.Kind)
		if f.Kind == FaultLatency {
			if err := clock.Sleep(r.Context(), m.clock, time.Duration(f.Latency)); err != nil {
				m.record("fault:latency", req, llm.Message{}, names, 0)
				return
			}
		}
	}
	for _, f := range faults {
		switch f.Kind {
		case FaultError:
			m.record("fault:error", req, llm.Message{}, names, f.Status)
			httpx.Error(w, f.Status, "mock LLM: injected failure")
			return
		case FaultTimeout:
			m.record("fault:timeout", req, llm.Message{}, names, 0)
			select {
			case <-r.Context().Done():
			case <-time.After(maxHang):
			}
			return
		case FaultMalformed:
			m.record("fault:malformed", req, llm.Message{}, names, http.StatusOK)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"id":"mock-broken","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"途中で`)
			return
		}
	}
	msg, rule, err := m.decide(&req)
	if err != nil {
		httpx.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	for _, f := range faults {
		switch f.Kind {
		case FaultThink:
			msg.Content = "<think>\n状況を整理します。センサー値と進行中のタスクを確認…\n</think>\n" + msg.Content
		case FaultTextToolCalls:
			var text strings.Builder
			text.WriteString(string(msg.Content))
			for _, c := range msg.ToolCalls {
				b, _ := json.Marshal(map[string]any{"name": c.Function.Name, "arguments": json.RawMessage(c.Function.Arguments)})
				fmt.Fprintf(&text, "\n<tool_call>\n%s\n</tool_call>", b)
			}
			msg.Content, msg.ToolCalls = llm.Content(text.String()), nil
		}
	}
	m.record(rule, req, msg, names, http.StatusOK)
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

// pickFaults draws the faults that apply to one request and counts them used.
func (m *Mock) pickFaults(tools bool) []Fault {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Fault
	for _, f := range m.faults {
		if f.exhausted() || !f.inScope(tools) {
			continue
		}
		if f.Probability > 0 && m.rng.Float64() >= f.Probability {
			continue
		}
		f.Used++
		out = append(out, *f)
	}
	return out
}

// decide picks the answer: the first matching rule; otherwise a plain answer
// to a tool result (which ends the ReAct loop), or "nothing to do".
func (m *Mock) decide(req *llm.ChatRequest) (llm.Message, string, error) {
	m.mu.Lock()
	rules := m.rules
	m.mu.Unlock()
	for i := range rules {
		if groups, ok := rules[i].match(req); ok {
			if len(rules[i].Pool) > 0 {
				m.mu.Lock()
				groups["pool"] = rules[i].Pool[m.rng.IntN(len(rules[i].Pool))]
				m.mu.Unlock()
			}
			msg, err := rules[i].answer(groups, "call_"+randomHex(4))
			return msg, rules[i].Name, err
		}
	}
	if endsWithToolResult(req) {
		return llm.Message{Role: llm.RoleAssistant, Content: "対応しました。引き続き監視します。"}, "tool_result", nil
	}
	if len(req.Tools) == 0 {
		return llm.Message{Role: llm.RoleAssistant, Content: "承知しました。"}, "voice", nil
	}
	return llm.Message{Role: llm.RoleAssistant, Content: "環境は正常です。対応は不要です。"}, "fallback", nil
}

func (m *Mock) record(rule string, req llm.ChatRequest, resp llm.Message, faults []string, status int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	m.log = append(m.log, Recorded{Seq: m.seq, At: m.clock.Now(), Rule: rule, Request: req, Response: resp, Faults: faults, Status: status})
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

// readRuleSet decodes a request body: JSON, or YAML when the content type
// says so; a bare list is a list of rules.
func readRuleSet(w http.ResponseWriter, r *http.Request) (RuleSet, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpx.MaxBody))
	if err != nil {
		httpx.Error(w, http.StatusRequestEntityTooLarge, err.Error())
		return RuleSet{}, false
	}
	rs, err := decodeRuleSet(body)
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error())
		return RuleSet{}, false
	}
	if err := rs.validate(); err != nil {
		httpx.Error(w, http.StatusUnprocessableEntity, err.Error())
		return RuleSet{}, false
	}
	return rs, true
}

// putRules replaces the rule table.
func (m *Mock) putRules(w http.ResponseWriter, r *http.Request) {
	rs, ok := readRuleSet(w, r)
	if !ok {
		return
	}
	compiled, err := CompileRules(rs.Rules)
	if err != nil {
		httpx.Error(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	m.mu.Lock()
	m.rules = compiled
	m.mu.Unlock()
	httpx.WriteJSON(w, http.StatusOK, compiled)
}

// postRules puts rules before the current table (or replaces it when the
// body says mode: replace).
func (m *Mock) postRules(w http.ResponseWriter, r *http.Request) {
	rs, ok := readRuleSet(w, r)
	if !ok {
		return
	}
	if err := m.Apply(rs); err != nil {
		httpx.Error(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	m.getRules(w, r)
}

func (m *Mock) getFaults(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	out := make([]Fault, 0, len(m.faults))
	for _, f := range m.faults {
		out = append(out, *f)
	}
	m.mu.Unlock()
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (m *Mock) decodeFaults(w http.ResponseWriter, r *http.Request, many bool) ([]*Fault, bool) {
	var in []Fault
	if many {
		if !httpx.DecodeOrError(w, r, &in) {
			return nil, false
		}
	} else {
		var f Fault
		if !httpx.DecodeOrError(w, r, &f) {
			return nil, false
		}
		in = []Fault{f}
	}
	out := make([]*Fault, len(in))
	for i := range in {
		in[i].Used = 0
		if err := in[i].Validate(); err != nil {
			httpx.Error(w, http.StatusUnprocessableEntity, err.Error())
			return nil, false
		}
		out[i] = &in[i]
	}
	return out, true
}

func (m *Mock) putFaults(w http.ResponseWriter, r *http.Request) {
	fs, ok := m.decodeFaults(w, r, true)
	if !ok {
		return
	}
	m.mu.Lock()
	m.faults = fs
	m.mu.Unlock()
	m.getFaults(w, r)
}

func (m *Mock) postFault(w http.ResponseWriter, r *http.Request) {
	fs, ok := m.decodeFaults(w, r, false)
	if !ok {
		return
	}
	m.mu.Lock()
	m.faults = append(m.faults, fs...)
	m.mu.Unlock()
	m.getFaults(w, r)
}

func (m *Mock) clearFaults(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	m.faults = nil
	m.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// RequestFilter selects recorded requests (GET /control/requests query).
type RequestFilter struct {
	Rule     string // rule name
	Tool     string // a tool the answer called
	Fault    string // an applied fault kind
	Contains string // substring of the last user message
	SinceSeq int64  // only requests with a larger seq
	Limit    int    // only the last n
}

// Match reports whether rec passes the filter.
func (f RequestFilter) Match(rec Recorded) bool {
	if f.Rule != "" && rec.Rule != f.Rule {
		return false
	}
	if rec.Seq <= f.SinceSeq {
		return false
	}
	if f.Tool != "" && !slices.ContainsFunc(rec.Response.ToolCalls, func(c llm.ToolCall) bool { return c.Function.Name == f.Tool }) {
		return false
	}
	if f.Fault != "" && !slices.Contains(rec.Faults, f.Fault) {
		return false
	}
	if f.Contains != "" {
		req := rec.Request
		if !strings.Contains(scopeText(&req, ScopeLastUser), f.Contains) {
			return false
		}
	}
	return true
}

func (m *Mock) getRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := RequestFilter{Rule: q.Get("rule"), Tool: q.Get("tool"), Fault: q.Get("fault"), Contains: q.Get("contains")}
	bad := map[string]string{}
	for name, dst := range map[string]*int64{"since_seq": &f.SinceSeq} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				bad[name] = "must be an integer"
			}
			*dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			bad["limit"] = "must be a non-negative integer"
		}
		f.Limit = n
	}
	if len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	m.mu.Lock()
	out := []Recorded{}
	for _, rec := range m.log {
		if f.Match(rec) {
			out = append(out, rec)
		}
	}
	m.mu.Unlock()
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
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
	m.rules, m.log, m.faults = rules, nil, nil
	m.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// filtered returns the recorded requests passing f (for tests and tools in
// this process; over HTTP use GET /control/requests).
func (m *Mock) filtered(f RequestFilter) []Recorded {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Recorded
	for _, rec := range m.log {
		if f.Match(rec) {
			out = append(out, rec)
		}
	}
	return out
}
