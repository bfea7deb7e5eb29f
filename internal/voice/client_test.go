package voice_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/internal/voice"
	voicesvc "github.com/somsgo/soms/services/voice"
	"github.com/somsgo/soms/sim/mockllm"
	"github.com/somsgo/soms/sim/voicevox"
)

var quiet = slog.New(slog.DiscardHandler)

func serve(t *testing.T, routes func(chi.Router)) *httptest.Server {
	t.Helper()
	r := chi.NewRouter()
	routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// simEngine is the real simulated VOICEVOX engine speaking with espeak-ng.
func simEngine(t *testing.T) *httptest.Server {
	e := voicevox.New(voicevox.Config{Espeak: "espeak-ng", Voice: "ja", Workers: 2, MaxText: 1000}, quiet, nil)
	if err := e.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	return serve(t, e.Routes)
}

// voiceService is the real voice service over the sim engine and the mock
// LLM, with a rule answering announcement prompts.
func voiceService(t *testing.T) *httptest.Server {
	m := mockllm.New(clock.NewManual(time.Unix(0, 0)), "mock-qwen", 10)
	llmSrv := serve(t, m.Routes)
	rules, _ := json.Marshal([]mockllm.Rule{{
		Name: "announce", NoTools: true,
		Match:   `タイトル: (?P<title>[^\n]+)[\s\S]*報酬: (?P<reward>[^\n]+)`,
		Content: "{{title}}をお願いします。{{reward}}を差し上げます。",
	}})
	req, _ := http.NewRequest(http.MethodPut, llmSrv.URL+"/control/rules", bytes.NewReader(rules))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("rules: %v %v", err, resp)
	}
	resp.Body.Close()

	engine, _ := voice.NewEngine(simEngine(t).URL, nil)
	store, err := voicesvc.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := voicesvc.NewWriter(llm.NewClient(llm.Config{URL: llmSrv.URL + "/v1", Model: "m", Timeout: 5 * time.Second}), 5*time.Second, 1, quiet, nil)
	s := voicesvc.NewSynth(engine, store, 47, 30*time.Second, nil)
	rej, _ := voicesvc.NewStock("rejection", 0, store, nil, quiet, nil)
	acc, _ := voicesvc.NewStock("acceptance", 0, store, nil, quiet, nil)
	api := voicesvc.NewAPI(w, s, store, engine, rej, acc, voicesvc.APIOptions{}, quiet)
	return serve(t, api.Routes)
}

func getWAV(t *testing.T, url string) voice.WAVInfo {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	info, err := voice.ParseWAV(b)
	if resp.StatusCode != 200 || err != nil {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return info
}

func TestClientAgainstService(t *testing.T) {
	srv := voiceService(t)
	c, err := voice.NewClient(srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	sp, err := c.Synthesize(ctx, "少し休憩しましょう。", voice.ToneCaring)
	if err != nil {
		t.Fatal(err)
	}
	if info := getWAV(t, c.AudioURL(sp.AudioURL)); info.SampleRate != 24000 || sp.Duration <= 0 {
		t.Errorf("speech %+v, wav %+v", sp, info)
	}

	task := voice.Task{Title: "コーヒー豆を補充してください", Zone: "kitchen", Urgency: 1, Bounty: 30}
	ann, err := c.Announce(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ann.Text, "30"+ann.RewardUnit) || ann.Source != "llm" {
		t.Errorf("announcement %+v", ann)
	}
	dual, err := c.AnnounceWithCompletion(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	if dual.AnnouncementAudioURL == "" || dual.CompletionAudioURL == "" || dual.CompletionText == "" {
		t.Errorf("dual %+v", dual)
	}
	getWAV(t, c.AudioURL(dual.CompletionAudioURL))

	// Bad input comes back as an Error with the service's message.
	_, err = c.Synthesize(ctx, "", "")
	var ve *voice.Error
	if !errors.As(err, &ve) || ve.Status != 422 || !strings.Contains(ve.Msg, "validation failed") {
		t.Errorf("empty text: %v", err)
	}
}

func TestClientTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c, _ := voice.NewClient(srv.URL, nil)
	_, err := c.Synthesize(t.Context(), "はい", "")
	var ve *voice.Error
	if !errors.As(err, &ve) || ve.Status != 0 {
		t.Errorf("service down: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-t.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	c, _ = voice.NewClient(slow.URL, nil)
	if _, err := c.Announce(ctx, voice.Task{Title: "x"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	if _, err := voice.NewClient("voice-service:8002", nil); err == nil {
		t.Error("URL without scheme accepted")
	}
}

func TestEngineAgainstSim(t *testing.T) {
	e, err := voice.NewEngine(simEngine(t).URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if v, err := e.Version(ctx); err != nil || v == "" {
		t.Fatalf("version %q %v", v, err)
	}
	sp, err := e.Speakers(ctx)
	if err != nil || len(sp) == 0 {
		t.Fatalf("speakers %v %v", sp, err)
	}
	q, err := e.AudioQuery(ctx, "おはようございます", 47)
	if err != nil || len(q.AccentPhrases) == 0 || q.OutputSamplingRate != 24000 {
		t.Fatalf("query %+v %v", q, err)
	}
	wav, err := e.Synthesize(ctx, "おはようございます", 47, func(q *voice.AudioQuery) { q.OutputSamplingRate = 48000 })
	if err != nil {
		t.Fatal(err)
	}
	if info, err := voice.ParseWAV(wav); err != nil || info.SampleRate != 48000 {
		t.Errorf("adjusted synthesis: %+v %v", info, err)
	}
	_, err = e.AudioQuery(ctx, "x", 12345)
	var ve *voice.Error
	if !errors.As(err, &ve) || ve.Status != 422 || !strings.Contains(ve.Msg, "style_id=12345") {
		t.Errorf("unknown speaker: %v", err)
	}
}
