package frontend_test

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/somsgo/soms/internal/browsertest"
	"github.com/somsgo/soms/internal/config"
	"github.com/somsgo/soms/internal/wallet"
	"github.com/somsgo/soms/services/frontend"
	"github.com/somsgo/soms/sim/harness"
)

// audit.js checks the page in the browser: labels, alternative texts,
// contrast and the list of keyboard-focusable controls.
//
//go:embed testdata/audit.js
var auditJS string

// A weekday morning in the office (Monday 2026-11-23, 09:00 JST).
var officeMorning = time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))

const (
	adminUser = "admin"
	adminPass = "admin-pass-123"
)

// TestDashboardInBrowser drives the dashboard in headless Chromium against
// the real native stack (every service as its own process, simulated clock
// at 60×) with this frontend in front of it: the brain's task appears live,
// a person registers, accepts and completes it and sees the reward in the
// wallet; the page passes basic accessibility checks, switches language,
// shows administrators their views, and fits a phone and a wall display.
func TestDashboardInBrowser(t *testing.T) {
	chrome := browsertest.FindChromium(t)
	artifacts := browsertest.ArtifactsDir(t, "dashboard")
	began := time.Now()
	bin := buildSoms(t)
	t.Logf("soms built in %.1fs", time.Since(began).Seconds())

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	up := time.Now()
	// The cameras also serve H.264 over HLS (CAMERA_HLS), which the dashboard plays.
	hlsPort := freePort(t)
	stack, err := harness.Start(ctx, harness.Options{
		Binary: bin, Speed: 60, Start: officeMorning, Layout: "builtin:office", Seed: 1, Cameras: true,
		Env: map[string][]string{
			harness.Backend: {"BACKEND_ADMIN_USER=" + adminUser, "BACKEND_ADMIN_PASSWORD=" + adminPass},
			harness.Camera:  {"CAMERA_HLS=true", "CAMERA_HLS_PORT=" + strconv.Itoa(hlsPort)},
		},
	})
	if err != nil {
		t.Fatalf("starting the stack: %v", err)
	}
	t.Cleanup(func() {
		if err := stack.Stop(); err != nil {
			t.Errorf("stopping the stack: %v", err)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range harness.Services() {
				for _, line := range stack.Logs(name, 15) {
					t.Logf("%-12s| %s", name, line)
				}
			}
		}
	})
	t.Logf("stack up in %.1fs", time.Since(up).Seconds())
	base := startFrontend(t, ctx, stack, "http://127.0.0.1:"+strconv.Itoa(hlsPort))

	b := browser{browsertest.New(t, ctx, chrome, artifacts)}
	b.Open(base)
	b.Shot("01-start")

	// What the office said plays from /audio/ through the proxy.
	b.RunFor("an announcement with audio", 30*time.Second, chromedp.WaitVisible(chromedp.CSS(`#voice-list audio`)))
	src := browsertest.Value(b.Browser, "audio source", chromedp.AttributeValue(chromedp.CSS(`#voice-list audio`), "src"))
	if ctype := fetchType(t, strings.TrimSuffix(base, "/")+src.Value); ctype != "audio/wav" {
		t.Errorf("announcement audio %s: Content-Type %q, want audio/wav", src.Value, ctype)
	}

	// A person registers.
	userID := b.Register("hanako", "hanako-pass-1", "花子")
	if b.EvalBool(`document.getElementById('admin').hidden`) == false {
		t.Error("the administration view is shown to a person who is not an administrator")
	}

	// The simulator panel makes the meeting room stuffy.
	b.Inject("meeting_room", 6, 1400)
	injected := time.Now()

	// The brain's task appears on the board without a reload.
	card := browsertest.TaskCard("meeting_room")
	taskID, bounty := b.WaitTask("meeting_room", 90*time.Second)
	t.Logf("the brain's task reached the board %.1fs after the injection", time.Since(injected).Seconds())
	b.Shot("02-task-open")
	if unit := b.Text(card + ` .reward span[lang="ja"]`); unit == "" {
		t.Error("the reward shows no unit name")
	}

	// Accept, then complete with a report.
	b.Accept(taskID)
	b.Shot("03-task-accepted")
	b.Complete(taskID, "窓を開けました")
	completed := time.Now()
	want := strconv.Itoa(bounty * 1000)
	b.WaitBalance(bounty*1000, 60*time.Second)
	t.Logf("balance shown %.1fs after completing: %s credits", time.Since(completed).Seconds(), b.Text(`#wallet-balance`))
	if got := walletBalance(t, stack, userID); strconv.FormatInt(got, 10) != want {
		t.Errorf("the wallet service holds %d milli-units, the page shows %s", got, want)
	}
	b.Run("leaderboard lists the person", chromedp.WaitVisible(chromedp.CSS(`#leaderboard li.mine`)))
	b.Shot("04-paid")

	// Accessibility, with the clock paused so nothing re-renders meanwhile.
	setSpeed(t, stack, 0)
	b.Run("settle", chromedp.WaitVisible(chromedp.CSS(`#sim-time`)), chromedp.Sleep(500*time.Millisecond))
	b.audit()
	b.keyboard()
	setSpeed(t, stack, 60)

	// Japanese labels, kept across a reload.
	b.Run("switch to Japanese", chromedp.Click(chromedp.CSS(`#lang`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="ja"]`)))
	b.Run("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	if got := b.Text(`#tasks-h`); got != "タスク" {
		t.Errorf("after a reload the tasks heading reads %q, want タスク", got)
	}
	b.Shot("05-japanese")
	b.Run("switch back to English", chromedp.Click(chromedp.CSS(`#lang`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)))

	// The camera view refreshes real frames.
	b.RunFor("camera frames", 30*time.Second, chromedp.WaitReady(chromedp.CSS(`#camera-list img[data-camera]`)))
	if !b.Poll(`[...document.querySelectorAll('#camera-list img')].every(i => i.complete && i.naturalWidth > 0)`, 20*time.Second) {
		t.Error("the camera snapshots did not load")
	}
	// …and plays every camera's own H.264 stream (no transcoder: /{id}/, not
	// /{id}_h264/) through /api/sim/hls/ with hls.js.
	if !b.Poll(`[...document.querySelectorAll('#camera-list video')].every(v => v.dataset.hls === 'playing' && v.readyState >= 2 && /^\/api\/sim\/hls\/cam_[a-z]+\/index\.m3u8$/.test(v.dataset.src))`, 45*time.Second) {
		states := browsertest.Value(b.Browser, "video states", chromedp.Evaluate[string](`[...document.querySelectorAll('#camera-list video')].map(v => v.dataset.camera + ':' + v.dataset.hls + ':' + v.readyState + ':' + v.title).join(' ')`))
		t.Errorf("not every camera video played HLS: %v", states)
	}
	states := browsertest.Value(b.Browser, "video states", chromedp.Evaluate[string](`[...document.querySelectorAll('#camera-list video')].map(v => v.dataset.camera + ':' + v.dataset.hls + ':' + v.dataset.src).join(' ')`))
	t.Logf("camera live view: %s", states)
	b.Shot("05b-cameras")

	// An administrator sees accounts and the brain's decisions.
	b.SignIn(adminUser, adminPass)
	b.AdminViews(userID)
	b.Shot("06-admin")

	// Phone and wall display.
	b.Run("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)), chromedp.Sleep(300*time.Millisecond))
	if overflow := b.EvalInt(`document.documentElement.scrollWidth - window.innerWidth`); overflow > 1 {
		t.Errorf("on a phone the page is %dpx wider than the screen", overflow)
	}
	b.Shot("07-phone")
	b.Run("wall display", chromedp.EmulateViewport(1920, 1080), chromedp.Sleep(300*time.Millisecond))
	if cols := b.EvalInt(`getComputedStyle(document.getElementById('main')).gridTemplateColumns.split(' ').length`); cols != 3 {
		t.Errorf("a wall display shows %d columns of panels, want 3", cols)
	}
	b.Shot("08-wall")
	t.Logf("screenshots in %s; whole test %.1fs", artifacts, time.Since(began).Seconds())
}

// buildSoms compiles the binary the stack runs, as the acceptance suite does.
func buildSoms(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "soms")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/soms")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("building soms: %v\n%s", err, out.String())
	}
	return bin
}

// startFrontend runs this package's service in-process in front of the stack.
func startFrontend(t *testing.T, ctx context.Context, stack *harness.Stack, hlsURL string) string {
	t.Helper()
	var cfg frontend.Config
	if err := config.Load(&cfg, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = ln.Addr().String()
	ln.Close()
	cfg.BackendURL, cfg.VoiceURL = stack.URL(harness.Backend), stack.URL(harness.Voice)
	cfg.BrainURL, cfg.EdgeURL, cfg.MockLLMURL = stack.URL(harness.Brain), stack.URL(harness.Edge), stack.URL(harness.MockLLM)
	cfg.CameraURL, cfg.HarnessURL = stack.URL(harness.Camera), stack.URL(harness.PortControl)
	cfg.HLSURL = hlsURL
	cfg.ReportsDir = t.TempDir()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- frontend.Run(runCtx, cfg) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("frontend: %v", err)
		}
	})
	base := "http://" + cfg.Addr
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base + "/"
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the frontend did not become ready: %v", err)
		}
		select {
		case err := <-done:
			t.Fatalf("the frontend stopped: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func walletBalance(t *testing.T, stack *harness.Stack, user int) int64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/wallets/%d", stack.URL(harness.Wallet), user), nil)
	req.Header.Set(wallet.ServiceTokenHeader, stack.Token) // the wallet answers services only
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var w struct{ Balance int64 }
	if err := json.NewDecoder(resp.Body).Decode(&w); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("wallet %d: HTTP %d %v", user, resp.StatusCode, err)
	}
	return w.Balance
}

// fetchType GETs url and returns its Content-Type (failing on non-200).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func fetchType(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return resp.Header.Get("Content-Type")
}

func setSpeed(t *testing.T, stack *harness.Stack, speed float64) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, stack.URL(harness.PortControl)+"/clock", strings.NewReader(fmt.Sprintf(`{"speed":%g}`, speed)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("setting the clock speed: HTTP %d", resp.StatusCode)
	}
}

// browser adds the dashboard's accessibility checks to the shared driver.
type browser struct{ *browsertest.Browser }

// auditResult is what testdata/audit.js returns.
type auditResult struct {
	Unlabeled   []string `json:"unlabeled"`
	NoAlt       []string `json:"noAlt"`
	LowContrast []string `json:"lowContrast"`
	Checked     int      `json:"contrastChecked"`
	Focusable   []string `json:"focusable"`
}

func (b browser) runAudit() auditResult {
	b.T.Helper()
	return browsertest.Value(b.Browser, "accessibility audit", chromedp.Evaluate[auditResult](auditJS))
}

// audit: every form control has a label, every image a text alternative,
// and key text meets WCAG AA contrast against its background.
func (b browser) audit() {
	b.T.Helper()
	res := b.runAudit()
	for _, s := range res.Unlabeled {
		b.T.Errorf("form control without a label: %s", s)
	}
	for _, s := range res.NoAlt {
		b.T.Errorf("image without a text alternative: %s", s)
	}
	for _, s := range res.LowContrast {
		b.T.Errorf("text below contrast 4.5:1 (3:1 large): %s", s)
	}
	if res.Checked < 20 {
		b.T.Errorf("the contrast check saw only %d elements", res.Checked)
	}
	b.T.Logf("accessibility: %d focusable controls, %d text elements checked for contrast", len(res.Focusable), res.Checked)
}

// keyboard tabs through the page and expects to reach every focusable
// control, in order, with the skip link first.
func (b browser) keyboard() {
	b.T.Helper()
	want := b.runAudit().Focusable
	if len(want) < 10 {
		b.T.Fatalf("only %d focusable controls found: %v", len(want), want)
	}
	if want[0] != "#skip-link" {
		b.T.Errorf("the first focusable control is %s, want the skip link", want[0])
	}
	// Start at the skip link; audio players take several Tabs each.
	b.Run("focus the skip link", chromedp.Focus(chromedp.CSS(`a.skip`)))
	reached := map[string]bool{want[0]: true}
	order := []string{want[0]}
	missing := func() int {
		n := 0
		for _, w := range want {
			if !reached[w] {
				n++
			}
		}
		return n
	}
	for i := 0; i < 4*len(want)+20 && missing() > 0; i++ {
		b.Run("press Tab", chromedp.KeyEvent(kb.Tab))
		who := browsertest.Value(b.Browser, "focused element", chromedp.Evaluate[string](`window.somsDescribe(document.activeElement)`))
		if !reached[who] {
			reached[who] = true
			order = append(order, who)
		}
	}
	for _, w := range want {
		if !reached[w] {
			b.T.Errorf("not reachable with the keyboard: %s", w)
		}
	}
	b.T.Logf("keyboard: Tab reaches %d controls, in order: %s", len(order), strings.Join(order, " "))
}
