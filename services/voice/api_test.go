package voice

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/somsgo/soms/internal/voice"
)

// fetchWAV downloads an audio URL of the service and checks the response.
func fetchWAV(t *testing.T, f *fixture, audioURL string) []byte {
	t.Helper()
	if !strings.HasPrefix(audioURL, "/audio/") {
		t.Fatalf("audio_url %q is not under /audio/", audioURL)
	}
	resp, err := http.Get(f.srv.URL + audioURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("GET %s: %d %s", audioURL, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return b
}

// checkSpeech is the integration check of produced audio: a valid RIFF/WAVE
// file, 24 kHz mono 16-bit as VOICEVOX answers, a duration plausible for the
// text's length, and not silent.
func checkSpeech(t *testing.T, wav []byte, text string, reported float64) {
	t.Helper()
	samples, info, err := voice.PCM16(wav)
	if err != nil {
		t.Fatalf("not a 16-bit PCM WAV: %v", err)
	}
	if info.SampleRate != 24000 || info.Channels != 1 {
		t.Errorf("format %d Hz × %d channels, want 24000 × 1", info.SampleRate, info.Channels)
	}
	if info.DataOffset+info.DataLen != len(wav) {
		t.Errorf("data chunk (%d+%d) does not end the file (%d bytes)", info.DataOffset, info.DataLen, len(wav))
	}
	d := info.Duration().Seconds()
	if math.Abs(d-reported) > 0.01 {
		t.Errorf("reported duration %.3f s, file holds %.3f s", reported, d)
	}
	n := float64(utf8.RuneCountInString(text))
	// Japanese speech runs at roughly 5–12 characters a second; espeak-ng
	// spells unknown kanji, so allow a wide band around that.
	if lo, hi := n*0.03+0.2, n*0.6+1; d < lo || d > hi {
		t.Errorf("duration %.2f s for %d characters, want %.2f–%.2f s", d, int(n), lo, hi)
	}
	var sum float64
	for _, s := range samples {
		sum += float64(s) * float64(s)
	}
	if rms := math.Sqrt(sum / float64(len(samples))); rms < 200 {
		t.Errorf("RMS %.0f: the audio is (nearly) silent", rms)
	}
}

func TestSynthesizeServesValidSpeechAndCaches(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	text := "みなさん、お疲れさまです。少し休憩しませんか。"
	var sp voice.Speech
	if code, b := f.do(t, "POST", "/api/voice/synthesize", voice.SynthesizeRequest{Text: text}, &sp); code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	if sp.Text != text || sp.Duration <= 0 {
		t.Fatalf("answer %+v", sp)
	}
	checkSpeech(t, fetchWAV(t, f, sp.AudioURL), text, sp.Duration)

	// The same text again is a cache hit with the same URL; a tone is a
	// different rendering.
	var again, caring voice.Speech
	f.do(t, "POST", "/api/voice/synthesize", voice.SynthesizeRequest{Text: text}, &again)
	f.do(t, "POST", "/api/voice/synthesize", voice.SynthesizeRequest{Text: text, Tone: "caring"}, &caring)
	if again != sp {
		t.Errorf("cached answer %+v differs from %+v", again, sp)
	}
	if caring.AudioURL == sp.AudioURL {
		t.Error("tone did not change the audio")
	}
	if hits := f.counter("soms_voice_synth_total", "result", "cache_hit"); hits != 1 {
		t.Errorf("cache hits = %v, want 1", hits)
	}
	if n := f.counter("soms_voice_synth_total", "result", "synthesized"); n != 2 {
		t.Errorf("syntheses = %v, want 2", n)
	}

	// A restarted service finds the file on disk.
	st, _ := NewStore(f.dir)
	if d, ok := st.Lookup(strings.TrimPrefix(sp.AudioURL, "/audio/")); !ok || math.Abs(d-sp.Duration) > 1e-9 {
		t.Errorf("fresh store lookup = %v %v", d, ok)
	}
}

func TestAnnounceWithCompletion(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	var dual voice.DualAnnouncement
	code, b := f.do(t, "POST", "/api/voice/announce_with_completion", voice.AnnounceRequest{Task: co2Task}, &dual)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	if !strings.Contains(dual.AnnouncementText, co2Task.Title) || !strings.Contains(dual.AnnouncementText, dual.RewardUnit) {
		t.Errorf("announcement %q (unit %q)", dual.AnnouncementText, dual.RewardUnit)
	}
	if !strings.Contains(dual.CompletionText, "ありがとう") {
		t.Errorf("completion %q", dual.CompletionText)
	}
	if dual.AnnouncementAudioURL == dual.CompletionAudioURL {
		t.Error("one audio for two texts")
	}
	checkSpeech(t, fetchWAV(t, f, dual.AnnouncementAudioURL), dual.AnnouncementText, dual.AnnouncementDuration)
	checkSpeech(t, fetchWAV(t, f, dual.CompletionAudioURL), dual.CompletionText, dual.CompletionDuration)

	var ann voice.Announcement
	if code, b := f.do(t, "POST", "/api/voice/announce", voice.AnnounceRequest{Task: co2Task}, &ann); code != 200 || ann.Source != SourceLLM {
		t.Fatalf("%d %s", code, b)
	}
	checkSpeech(t, fetchWAV(t, f, ann.AudioURL), ann.Text, ann.Duration)
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for _, tc := range []struct {
		name, path string
		body       any
		code       int
		want       string
	}{
		{"empty text", "/api/voice/synthesize", voice.SynthesizeRequest{Text: "  "}, 422, `"text"`},
		{"long text", "/api/voice/synthesize", voice.SynthesizeRequest{Text: strings.Repeat("あ", 301)}, 422, "limit of 300"},
		{"bad tone", "/api/voice/synthesize", voice.SynthesizeRequest{Text: "はい", Tone: "angry"}, 422, "neutral, caring"},
		{"not JSON", "/api/voice/synthesize", "text", 400, "must be"},
		{"no title", "/api/voice/announce", voice.AnnounceRequest{}, 422, "task.title"},
		{"urgency", "/api/voice/announce_with_completion", voice.AnnounceRequest{Task: voice.Task{Title: "x", Urgency: 9}}, 422, "task.urgency"},
		{"feedback type", "/api/voice/feedback/nope", nil, 422, "task_completed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := f.do(t, "POST", tc.path, tc.body, nil)
			if code != tc.code || !strings.Contains(string(b), tc.want) || !strings.Contains(string(b), `"error"`) {
				t.Errorf("%d %s; want %d with %q", code, b, tc.code, tc.want)
			}
		})
	}
}

func TestAudioPathsAreSafe(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	var sp voice.Speech
	f.do(t, "POST", "/api/voice/synthesize", voice.SynthesizeRequest{Text: "テスト"}, &sp)
	name := strings.TrimPrefix(sp.AudioURL, "/audio/")
	for _, p := range []string{
		"/audio/../helpers_test.go", "/audio/..%2f..%2fetc%2fpasswd", "/audio/%2e%2e", "/audio/stock-rejection.json",
		"/audio/" + strings.ToUpper(name), "/audio/rejections/..%2F" + name, "/audio/nothing.wav",
	} {
		resp, err := http.Get(f.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
	// The original's stock paths serve the same files.
	resp, err := http.Get(f.srv.URL + "/audio/rejections/" + name)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("stock path: %d", resp.StatusCode)
	}
}

func TestEngineFailures(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client leave
		select {                           // never answers
		case <-r.Context().Done():
		case <-t.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		fmt.Fprint(w, `{"detail":"engine exploded"}`)
	}))
	t.Cleanup(broken.Close)
	for _, tc := range []struct {
		name, url string
		code      int
		want      string
	}{
		{"engine down", down.URL, 502, "unreachable"},
		{"engine hangs", slow.URL, 504, "did not answer within 300ms"},
		{"engine fails", broken.URL, 502, "engine exploded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fixtureOpts{engineURL: tc.url, engineTimeout: 300 * time.Millisecond})
			code, b := f.do(t, "POST", "/api/voice/synthesize", voice.SynthesizeRequest{Text: "こんにちは"}, nil)
			if code != tc.code || !strings.Contains(string(b), tc.want) {
				t.Errorf("synthesize: %d %s; want %d with %q", code, b, tc.code, tc.want)
			}
			code, b = f.do(t, "POST", "/api/voice/announce_with_completion", voice.AnnounceRequest{Task: co2Task}, nil)
			if code != tc.code {
				t.Errorf("announce_with_completion: %d %s; want %d", code, b, tc.code)
			}
		})
	}
}

func TestStock(t *testing.T) {
	f := newFixture(t, fixtureOpts{stock: 3, token: "secret"})
	var st voice.StockStatus
	f.do(t, "GET", "/api/voice/rejection/status", nil, &st)
	if st.StockCount != 0 || st.MaxStock != 3 || !st.NeedsRefill {
		t.Fatalf("status %+v", st)
	}
	// An empty stock still answers, on demand.
	var e voice.StockEntry
	if code, b := f.do(t, "GET", "/api/voice/rejection/random", nil, &e); code != 200 || e.AudioURL == "" || !strings.Contains(e.Text, "私の計画") {
		t.Fatalf("on-demand rejection: %d %s", code, b)
	}
	for range 3 {
		if err := f.api.rejections.fillOne(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	f.do(t, "GET", "/api/voice/rejection/status", nil, &st)
	if st.StockCount != 3 || st.NeedsRefill {
		t.Fatalf("after filling: %+v", st)
	}
	if code, _ := f.do(t, "GET", "/api/voice/rejection/random", nil, &e); code != 200 {
		t.Fatal(code)
	}
	fetchWAV(t, f, e.AudioURL)
	f.do(t, "GET", "/api/voice/rejection/status", nil, &st)
	if st.StockCount != 2 {
		t.Errorf("pop left %d entries, want 2", st.StockCount)
	}
	// The manifest survives a restart.
	st2, _ := NewStore(f.dir)
	again, err := NewStock("rejection", 3, st2, nil, quiet, nil)
	if err != nil || again.Status().StockCount != 2 {
		t.Errorf("reloaded stock: %+v %v", again.Status(), err)
	}

	if code, _ := f.do(t, "POST", "/api/voice/rejection/clear", nil, nil); code != 403 {
		t.Errorf("clear without token: %d", code)
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/voice/rejection/clear", nil)
	req.Header.Set("X-Service-Token", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("clear: %v %v", err, resp)
	}
	resp.Body.Close()
	f.do(t, "GET", "/api/voice/rejection/status", nil, &st)
	if st.StockCount != 0 {
		t.Errorf("cleared stock holds %d", st.StockCount)
	}

	var acc voice.StockEntry
	if code, b := f.do(t, "GET", "/api/voice/acceptance/random", nil, &acc); code != 200 || acc.Text == "" {
		t.Errorf("acceptance: %d %s", code, b)
	}
	var fb voice.Speech
	if code, b := f.do(t, "POST", "/api/voice/feedback/task_completed", nil, &fb); code != 200 || fb.AudioURL == "" {
		t.Errorf("feedback: %d %s", code, b)
	}
	var credit map[string]string
	if code, b := f.do(t, "GET", "/api/voice/credit", nil, &credit); code != 200 || !strings.Contains(credit["character"], "シムロボ") {
		t.Errorf("credit: %d %s", code, b)
	}
}

// The original voice service's shapes: its root answer, and text_generated /
// duration_seconds beside text / duration on synthesize, announce and
// feedback.
func TestOriginalShapes(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	var root map[string]string
	if code, b := f.do(t, "GET", "/", nil, &root); code != 200 || root["service"] != "SOMS Voice Service" || root["status"] != "running" || len(root) != 2 {
		t.Fatalf("GET /: %d %s", code, b)
	}
	for _, c := range []struct {
		path string
		body any
	}{
		{"/api/voice/synthesize", voice.SynthesizeRequest{Text: "こんにちは。"}},
		{"/api/voice/announce", voice.AnnounceRequest{Task: voice.Task{Title: "換気を行ってください", Zone: "main", Urgency: 2}}},
		{"/api/voice/feedback/task_completed", nil},
	} {
		var got map[string]any
		if code, b := f.do(t, "POST", c.path, c.body, &got); code != 200 {
			t.Fatalf("%s: %d %s", c.path, code, b)
		}
		text, _ := got["text"].(string)
		dur, _ := got["duration"].(float64)
		if text == "" || dur <= 0 || got["text_generated"] != text || got["duration_seconds"] != dur {
			t.Errorf("%s: text %q duration %v, text_generated %v duration_seconds %v", c.path, text, dur, got["text_generated"], got["duration_seconds"])
		}
	}
}
