package voicevox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/voice"
)

func testConfig() Config {
	return Config{Addr: ":0", Espeak: "espeak-ng", Voice: "ja", Workers: 2, MaxText: 200}
}

// newServer runs the engine's real router over httptest.
func newServer(t *testing.T) (*httptest.Server, *Engine) {
	t.Helper()
	e := New(testConfig(), slog.New(slog.DiscardHandler), nil)
	if err := e.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	e.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, e
}

func post(t *testing.T, u string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(u, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func query(t *testing.T, base, text string, speaker string) voice.AudioQuery {
	t.Helper()
	resp, b := post(t, base+"/audio_query?"+url.Values{"text": {text}, "speaker": {speaker}}.Encode(), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("audio_query: %d %s", resp.StatusCode, b)
	}
	var q voice.AudioQuery
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	return q
}

func TestAudioQueryShape(t *testing.T) {
	srv, _ := newServer(t)
	resp, b := post(t, srv.URL+"/audio_query?speaker=47&text="+url.QueryEscape("こんにちは、きょうは いい てんきですね？"), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"accent_phrases", "speedScale", "pitchScale", "intonationScale", "volumeScale",
		"prePhonemeLength", "postPhonemeLength", "outputSamplingRate", "outputStereo", "kana"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("audio query lacks %q", k)
		}
	}
	var q voice.AudioQuery
	_ = json.Unmarshal(b, &q)
	if q.OutputSamplingRate != 24000 || q.OutputStereo || q.SpeedScale != 1 {
		t.Errorf("defaults: %+v", q)
	}
	if len(q.AccentPhrases) != 4 {
		t.Fatalf("accent phrases = %d, want 4: %s", len(q.AccentPhrases), b)
	}
	ap := q.AccentPhrases[0]
	if len(ap.Moras) != 5 || ap.PauseMora == nil || ap.PauseMora.Text != "、" || ap.PauseMora.Vowel != "pau" {
		t.Errorf("first phrase = %+v", ap)
	}
	if !q.AccentPhrases[3].IsInterrogative {
		t.Error("question not marked interrogative")
	}
}

func TestQueryTextRoundTrip(t *testing.T) {
	for _, text := range []string{
		"こんにちは、今日はいい天気ですね。",
		"しゃしんをとってちょうだい",
		"  leading space, and English!",
		"。。。",
		"",
	} {
		if got := queryText(newQuery(text)); got != text {
			t.Errorf("queryText(newQuery(%q)) = %q", text, got)
		}
	}
}

func synth(t *testing.T, base string, q voice.AudioQuery, speaker string) (*http.Response, []byte) {
	t.Helper()
	b, _ := json.Marshal(q)
	return post(t, base+"/synthesis?speaker="+speaker, b)
}

func TestSynthesisProducesSpeech(t *testing.T) {
	srv, e := newServer(t)
	text := "会議室の換気をお願いします。ありがとうございます。"
	q := query(t, srv.URL, text, "47")
	resp, wav := synth(t, srv.URL, q, "47")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("%d %s: %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), wav)
	}
	samples, info, err := voice.PCM16(wav)
	if err != nil {
		t.Fatal(err)
	}
	if info.SampleRate != 24000 || info.Channels != 1 || info.BitsPerSample != 16 {
		t.Fatalf("format %+v, want 24 kHz mono 16-bit", info)
	}
	d := info.Duration()
	// About 6 characters a second; kanji spelled out as "Chinese letter"
	// (espeak-ng's own reading) would run far longer.
	if d < 2*time.Second || d > 7*time.Second {
		t.Errorf("duration %v implausible for %d characters", d, len([]rune(text)))
	}
	if peak(samples) < 1000 {
		t.Errorf("peak amplitude %d: audio is (nearly) silent", peak(samples))
	}

	// speedScale is honoured: twice as fast is clearly shorter.
	q.SpeedScale = 2
	_, fast := synth(t, srv.URL, q, "47")
	fi, err := voice.ParseWAV(fast)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Duration() > d*3/4 {
		t.Errorf("speedScale 2 gave %v, normal %v", fi.Duration(), d)
	}

	// Output format follows the query.
	q.SpeedScale, q.OutputSamplingRate, q.OutputStereo = 1, 16000, true
	_, st := synth(t, srv.URL, q, "2")
	si, err := voice.ParseWAV(st)
	if err != nil {
		t.Fatal(err)
	}
	if si.SampleRate != 16000 || si.Channels != 2 {
		t.Errorf("stereo 16 kHz asked, got %+v", si)
	}

	if got := e.stats.Syntheses; got != 3 {
		t.Errorf("syntheses counted %d, want 3", got)
	}
}

func TestSynthesisEmptyQueryIsSilence(t *testing.T) {
	srv, _ := newServer(t)
	q := query(t, srv.URL, "", "47")
	resp, wav := synth(t, srv.URL, q, "47")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, wav)
	}
	info, err := voice.ParseWAV(wav)
	if err != nil {
		t.Fatal(err)
	}
	if info.Duration() != 200*time.Millisecond {
		t.Errorf("empty text: %v, want the 0.2 s of pre/post silence", info.Duration())
	}
}

func peak(s []int16) int {
	m := 0
	for _, v := range s {
		m = max(m, abs(int(v)))
	}
	return m
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestBadInputIsVOICEVOXStyle422(t *testing.T) {
	srv, _ := newServer(t)
	good, _ := json.Marshal(newQuery("テスト"))
	slow := newQuery("テスト")
	slow.SpeedScale = 0
	zero, _ := json.Marshal(slow)
	for _, tc := range []struct {
		name, path string
		body       []byte
		want       string
	}{
		{"query without speaker", "/audio_query?text=a", nil, `"loc":["query","speaker"]`},
		{"query without text", "/audio_query?speaker=47", nil, `"loc":["query","text"]`},
		{"speaker not a number", "/audio_query?text=a&speaker=x", nil, "valid integer"},
		{"unknown speaker", "/audio_query?text=a&speaker=9999", nil, "style_id=9999"},
		{"text too long", "/audio_query?speaker=47&text=" + strings.Repeat("あ", 201), nil, "at most 200"},
		{"synthesis unknown speaker", "/synthesis?speaker=9999", good, "style_id=9999"},
		{"synthesis bad json", "/synthesis?speaker=47", []byte(`{"accent_phrases":`), "invalid AudioQuery"},
		{"synthesis zero speed", "/synthesis?speaker=47", zero, "speedScale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := post(t, srv.URL+tc.path, tc.body)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", resp.StatusCode, b)
			}
			if !strings.Contains(string(b), `"detail"`) || !strings.Contains(string(b), tc.want) {
				t.Errorf("body %s lacks detail %q", b, tc.want)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	srv, _ := newServer(t)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/control/faults", strings.NewReader(`{"status":503,"remaining":1}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("put fault: %v %v", err, resp)
	}
	resp.Body.Close()
	if r, b := post(t, srv.URL+"/audio_query?speaker=47&text=a", nil); r.StatusCode != 503 {
		t.Fatalf("faulted request: %d %s", r.StatusCode, b)
	}
	if r, b := post(t, srv.URL+"/audio_query?speaker=47&text=a", nil); r.StatusCode != 200 {
		t.Fatalf("fault should be used up: %d %s", r.StatusCode, b)
	}
	req, _ = http.NewRequest(http.MethodPut, srv.URL+"/control/faults", strings.NewReader(`{"status":200}`))
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 422 {
		t.Errorf("fault status 200 accepted: %d", resp.StatusCode)
	}
}

func TestSpeakersAndVersion(t *testing.T) {
	srv, _ := newServer(t)
	resp, err := http.Get(srv.URL + "/speakers")
	if err != nil {
		t.Fatal(err)
	}
	var sp []voice.Speaker
	_ = json.NewDecoder(resp.Body).Decode(&sp)
	resp.Body.Close()
	ids := map[int]bool{}
	for _, s := range sp {
		if s.Name == "" || s.SpeakerUUID == "" {
			t.Errorf("speaker %+v lacks name or uuid", s)
		}
		for _, st := range s.Styles {
			ids[st.ID] = true
		}
	}
	if !ids[47] || len(sp) < 2 {
		t.Errorf("speakers %+v: want ≥2 speakers including style 47", sp)
	}
	resp, err = http.Get(srv.URL + "/version")
	if err != nil {
		t.Fatal(err)
	}
	var v string
	_ = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if v != EngineVersion {
		t.Errorf("version %q", v)
	}
}

func TestMissingEspeakNamesThePackage(t *testing.T) {
	cfg := testConfig()
	cfg.Espeak = "espeak-ng-not-installed-here"
	err := New(cfg, slog.New(slog.DiscardHandler), nil).Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Debian package espeak-ng") {
		t.Fatalf("err = %v, want one naming the package", err)
	}
	cfg = testConfig()
	cfg.Voice = "no-such-voice"
	if err := New(cfg, slog.New(slog.DiscardHandler), nil).Check(context.Background()); err == nil {
		t.Fatal("unknown voice accepted")
	}
}
