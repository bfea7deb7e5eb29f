package voice

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/config"
	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/voice"
	"github.com/somsgo/soms/sim/voicevox"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func waitReady(t *testing.T, url string, errc <-chan error) {
	t.Helper()
	for range 200 {
		select {
		case err := <-errc:
			t.Fatalf("exited before ready: %v", err)
		default:
		}
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // polling a process start-up; there is no event to await
	}
	t.Fatalf("%s never became ready", url)
}

// TestRunWithSimEngine starts both processes' Run as `soms voicevox-sim` and
// `soms voice` would, configured from environment variables.
func TestRunWithSimEngine(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	engineAddr, voiceAddr := freeAddr(t), freeAddr(t)
	llmSrv := newMockLLM(t, voiceRules)
	env := map[string]string{
		"VOICEVOX_SIM_ADDR": engineAddr, "VOICE_ADDR": voiceAddr, "LOG_LEVEL": "error",
		"VOICEVOX_URL": "http://" + engineAddr, "LLM_API_URL": llmSrv.URL + "/v1",
		"VOICE_AUDIO_DIR": t.TempDir(), "VOICE_PUBLIC_URL": "http://" + voiceAddr,
		// A production run (the wall clock) needs a real secret.
		"INTERNAL_SERVICE_TOKEN": localinfra.Secret(),
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var ecfg voicevox.Config
	var vcfg Config
	if err := config.Load(&ecfg, lookup); err != nil {
		t.Fatal(err)
	}
	if err := config.Load(&vcfg, lookup); err != nil {
		t.Fatal(err)
	}
	if vcfg.Speaker != 47 || vcfg.LLMTimeout != 30*time.Second {
		t.Fatalf("defaults: %+v", vcfg)
	}
	engineErr, voiceErr := make(chan error, 1), make(chan error, 1)
	go func() { engineErr <- voicevox.Run(ctx, ecfg) }()
	waitReady(t, "http://"+engineAddr, engineErr)
	go func() { voiceErr <- Run(ctx, vcfg) }()
	waitReady(t, "http://"+voiceAddr, voiceErr)

	c, _ := voice.NewClient("http://"+voiceAddr, nil)
	ann, err := c.Announce(ctx, co2Task)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ann.AudioURL, "http://"+voiceAddr+"/audio/") {
		t.Errorf("audio_url %q does not use VOICE_PUBLIC_URL", ann.AudioURL)
	}
	resp, err := http.Get(ann.AudioURL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %v %v", ann.AudioURL, err, resp)
	}
	resp.Body.Close()
	resp, err = http.Get("http://" + voiceAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	cancel()
	for name, errc := range map[string]chan error{"engine": engineErr, "voice": voiceErr} {
		if err := <-errc; err != nil {
			t.Errorf("%s Run: %v", name, err)
		}
	}
}

func TestRunFailsWithoutEspeak(t *testing.T) {
	var cfg voicevox.Config
	env := map[string]string{"VOICEVOX_SIM_ADDR": freeAddr(t), "VOICEVOX_SIM_ESPEAK": "no-espeak-here", "LOG_LEVEL": "error"}
	if err := config.Load(&cfg, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	err := voicevox.Run(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "apt-get install espeak-ng") {
		t.Fatalf("err = %v", err)
	}
}
