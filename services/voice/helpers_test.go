package voice

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/voice"
	"github.com/somsgo/soms/sim/mockllm"
	"github.com/somsgo/soms/sim/voicevox"
)

var quiet = slog.New(slog.DiscardHandler)

// voiceRules are mock-LLM rules for the voice service's prompts: they echo
// the task title, zone and reward from the prompt, as a real model would.
var voiceRules = []mockllm.Rule{
	{
		Name: "completion", NoTools: true,
		Match:   `完了しました[\s\S]*タイトル: (?P<title>[^\n]+)`,
		Content: "ありがとうございます！{{title}}のおかげで快適になりました。",
	},
	{
		Name: "announcement", NoTools: true,
		Match:   `タイトル: (?P<title>[^\n]+)[\s\S]*エリア: (?P<zone>[^\n]+)[\s\S]*報酬: (?P<reward>[^\n]+)`,
		Content: "<think>短く依頼します。</think>お願いがあります。{{zone}}で{{title}}をお願いします。{{reward}}がもらえます。",
	},
	{Name: "rejection", NoTools: true, Match: `無視・拒否`, Content: "「そんな……私の計画が……」"},
	{Name: "thanks", NoTools: true, Match: `感謝|お礼`, Content: "ありがとうございます！助かります。"},
}

// newMockLLM serves the project's mock LLM with rules (nil keeps its defaults).
func newMockLLM(t testing.TB, rules []mockllm.Rule) *httptest.Server {
	t.Helper()
	m := mockllm.New(clock.NewManual(time.Unix(1700000000, 0)), "mock-qwen", 100)
	r := chi.NewRouter()
	m.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	if rules != nil {
		b, _ := json.Marshal(rules)
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/control/rules", bytes.NewReader(b))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("loading mock LLM rules: %d %s", resp.StatusCode, body)
		}
	}
	return srv
}

func llmClient(url string, timeout time.Duration) *llm.Client {
	return llm.NewClient(llm.Config{URL: url + "/v1", Model: "mock-qwen", APIKey: "x", Timeout: timeout, Temperature: 0.8, MaxTokens: 200})
}

// newEngine serves the simulated VOICEVOX engine (real espeak-ng).
func newEngine(t testing.TB) *httptest.Server {
	t.Helper()
	e := voicevox.New(voicevox.Config{Espeak: "espeak-ng", Voice: "ja", Workers: 2, MaxText: 1000}, quiet, nil)
	if err := e.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	e.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

type fixture struct {
	api    *API
	srv    *httptest.Server // the voice service
	engine *httptest.Server
	llm    *httptest.Server
	dir    string
	reg    *prometheus.Registry
}

type fixtureOpts struct {
	engineURL     string // default: a fresh sim engine
	engineTimeout time.Duration
	token         string
	stock         int
}

func newFixture(t testing.TB, o fixtureOpts) *fixture {
	t.Helper()
	f := &fixture{llm: newMockLLM(t, voiceRules), dir: t.TempDir(), reg: prometheus.NewRegistry()}
	if o.engineURL == "" {
		f.engine = newEngine(t)
		o.engineURL = f.engine.URL
	}
	if o.engineTimeout == 0 {
		o.engineTimeout = 30 * time.Second
	}
	engine, err := voice.NewEngine(o.engineURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := NewStore(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(llmClient(f.llm.URL, 10*time.Second), 10*time.Second, 1, quiet, f.reg)
	s := NewSynth(engine, store, 47, o.engineTimeout, f.reg)
	gen := func(write func(context.Context) (string, string)) func(context.Context) (voice.StockEntry, string, error) {
		return func(ctx context.Context) (voice.StockEntry, string, error) {
			text, _ := write(ctx)
			au, err := s.Speak(ctx, text, "")
			return voice.StockEntry{Text: text, Duration: au.Duration}, au.File, err
		}
	}
	c := clock.NewManual(time.Unix(1700000000, 0))
	rej, err := NewStock("rejection", o.stock, store, c, quiet, gen(w.Rejection))
	if err != nil {
		t.Fatal(err)
	}
	acc, err := NewStock("acceptance", o.stock, store, c, quiet, gen(w.Acceptance))
	if err != nil {
		t.Fatal(err)
	}
	f.api = NewAPI(w, s, store, engine, rej, acc, APIOptions{MaxText: 300, ServiceToken: o.token}, quiet)
	r := chi.NewRouter()
	f.api.Routes(r)
	f.srv = httptest.NewServer(r)
	t.Cleanup(f.srv.Close)
	return f
}

// do sends a request to the voice service and decodes a JSON answer into out
// (when non-nil); it returns the status and raw body.
func (f *fixture) do(t testing.TB, method, path string, body any, out any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, b
}

// counter reads a counter of the fixture's registry.
func (f *fixture) counter(name, label, value string) float64 {
	mfs, _ := f.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
