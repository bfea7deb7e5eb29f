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
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/somsgo/soms/internal/config"
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
	chrome := findChromium(t)
	artifacts := artifactsDir(t)
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

	b := newBrowser(t, ctx, chrome, artifacts)
	b.run("open the dashboard", chromedp.Navigate(base), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	b.run("the event stream is live through the proxy", chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)))
	b.shot("01-start")

	// What the office said plays from /audio/ through the proxy.
	b.runFor("an announcement with audio", 30*time.Second, chromedp.WaitVisible(chromedp.CSS(`#voice-list audio`)))
	src := value(b, "audio source", chromedp.AttributeValue(chromedp.CSS(`#voice-list audio`), "src"))
	if ctype := fetchType(t, strings.TrimSuffix(base, "/")+src.Value); ctype != "audio/wav" {
		t.Errorf("announcement audio %s: Content-Type %q, want audio/wav", src.Value, ctype)
	}

	// A person registers.
	b.run("register",
		chromedp.SendKeys(chromedp.CSS(`#login-username`), "hanako"),
		chromedp.SendKeys(chromedp.CSS(`#login-password`), "hanako-pass-1"),
		chromedp.SendKeys(chromedp.CSS(`#login-display`), "花子"),
		chromedp.Click(chromedp.CSS(`#register-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#whoami`)))
	if b.evalBool(`document.getElementById('admin').hidden`) == false {
		t.Error("the administration view is shown to a person who is not an administrator")
	}
	userID := b.attrInt(`#whoami`, "data-user")

	// The simulator panel makes the meeting room stuffy.
	b.run("inject CO2 and people into the meeting room",
		chromedp.WaitReady(chromedp.CSS(`#inject-zone option[value="meeting_room"]`)),
		chromedp.SetValue(chromedp.CSS(`#inject-zone`), "meeting_room"),
		chromedp.SendKeys(chromedp.CSS(`#inject-people`), "6"),
		chromedp.SendKeys(chromedp.CSS(`#inject-co2`), "1400"),
		chromedp.Click(chromedp.CSS(`#inject-apply`)),
		chromedp.WaitVisible(chromedp.CSS(`#sim-status:not(.error)`)))
	if msg := b.text(`#sim-status`); !strings.Contains(msg, "meeting room") {
		t.Fatalf("injecting: %q", msg)
	}
	injected := time.Now()

	// The brain's task appears on the board without a reload.
	card := `#tasks-open li.task[data-zone="meeting_room"]`
	b.runFor("wait for the brain's task", 90*time.Second, chromedp.WaitVisible(chromedp.CSS(card)))
	t.Logf("the brain's task reached the board %.1fs after the injection", time.Since(injected).Seconds())
	taskID := b.attrInt(card, "data-id")
	bounty := b.attrInt(card+` .reward`, "data-bounty")
	b.shot("02-task-open")
	if unit := b.text(card + ` .reward span[lang="ja"]`); unit == "" {
		t.Error("the reward shows no unit name")
	}

	// Accept, then complete with a report.
	id := strconv.Itoa(taskID)
	b.run("accept", chromedp.Click(chromedp.CSS(`#accept-`+id)), chromedp.WaitVisible(chromedp.CSS(`#tasks-accepted li[data-id="`+id+`"]`)))
	b.shot("03-task-accepted")
	b.run("complete",
		chromedp.SetValue(chromedp.CSS(`#complete-status-`+id), "resolved"),
		chromedp.SendKeys(chromedp.CSS(`#complete-note-`+id), "窓を開けました"),
		chromedp.Click(chromedp.CSS(`#complete-`+id)),
		chromedp.WaitVisible(chromedp.CSS(`#tasks-completed li[data-id="`+id+`"]`)))
	completed := time.Now()
	want := strconv.Itoa(bounty * 1000)
	b.runFor("wait for the balance", 60*time.Second, chromedp.WaitVisible(chromedp.CSS(`#wallet-balance[data-milli="`+want+`"]`)))
	t.Logf("balance shown %.1fs after completing: %s credits", time.Since(completed).Seconds(), b.text(`#wallet-balance`))
	if got := walletBalance(t, stack, userID); strconv.FormatInt(got, 10) != want {
		t.Errorf("the wallet service holds %d milli-units, the page shows %s", got, want)
	}
	b.run("leaderboard lists the person", chromedp.WaitVisible(chromedp.CSS(`#leaderboard li.mine`)))
	b.shot("04-paid")

	// Accessibility, with the clock paused so nothing re-renders meanwhile.
	setSpeed(t, stack, 0)
	b.run("settle", chromedp.WaitVisible(chromedp.CSS(`#sim-time`)), chromedp.Sleep(500*time.Millisecond))
	b.audit()
	b.keyboard()
	setSpeed(t, stack, 60)

	// Japanese labels, kept across a reload.
	b.run("switch to Japanese", chromedp.Click(chromedp.CSS(`#lang`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="ja"]`)))
	b.run("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	if got := b.text(`#tasks-h`); got != "タスク" {
		t.Errorf("after a reload the tasks heading reads %q, want タスク", got)
	}
	b.shot("05-japanese")
	b.run("switch back to English", chromedp.Click(chromedp.CSS(`#lang`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)))

	// The camera view refreshes real frames.
	b.runFor("camera frames", 30*time.Second, chromedp.WaitReady(chromedp.CSS(`#camera-list img[data-camera]`)))
	if !b.poll(`[...document.querySelectorAll('#camera-list img')].every(i => i.complete && i.naturalWidth > 0)`, 20*time.Second) {
		t.Error("the camera snapshots did not load")
	}
	// …and plays the cameras' own H.264 streams (no transcoder: /{id}/, not
	// /{id}_h264/) through /api/sim/hls/ with hls.js. On a loaded 2-core CI
	// machine headless playback of every stream may lag, so one live camera
	// proves the path; the others must show a frame either way (video, or the
	// snapshot the view falls back to).
	if !b.poll(`[...document.querySelectorAll('#camera-list video')].some(v => v.dataset.hls === 'playing' && v.readyState >= 2 && /^\/api\/sim\/hls\/cam_[a-z]+\/index\.m3u8$/.test(v.dataset.src))`, 90*time.Second) {
		states := value(b, "video states", chromedp.Evaluate[string](`[...document.querySelectorAll('#camera-list video')].map(v => v.dataset.camera + ':' + v.dataset.hls + ':' + v.readyState + ':' + v.title).join(' ')`))
		t.Errorf("no camera video played HLS: %v", states)
	}
	if !b.poll(`[...document.querySelectorAll('#camera-list figure')].every(f => { const v = f.querySelector('video'), i = f.querySelector('img'); return (v && !v.hidden && v.readyState >= 2) || (i && !i.hidden && i.complete && i.naturalWidth > 0); })`, 20*time.Second) {
		t.Error("a camera shows neither video nor a snapshot")
	}
	states := value(b, "video states", chromedp.Evaluate[string](`[...document.querySelectorAll('#camera-list video')].map(v => v.dataset.camera + ':' + v.dataset.hls + ':' + v.dataset.src).join(' ')`))
	t.Logf("camera live view: %s", states)
	b.shot("05b-cameras")

	// An administrator sees accounts and the brain's decisions.
	b.run("sign out", chromedp.Click(chromedp.CSS(`#sign-out`)), chromedp.WaitVisible(chromedp.CSS(`#login-form`)))
	b.run("sign in as administrator",
		chromedp.SendKeys(chromedp.CSS(`#login-username`), adminUser),
		chromedp.SendKeys(chromedp.CSS(`#login-password`), adminPass),
		chromedp.Click(chromedp.CSS(`#login-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#whoami[data-role="admin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#admin`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#users-table tr[data-user="%d"]`, userID))))
	b.runFor("decisions", 30*time.Second, chromedp.WaitVisible(chromedp.CSS(`#admin-decisions .decisions li`)))
	b.shot("06-admin")

	// Phone and wall display.
	b.run("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)), chromedp.Sleep(300*time.Millisecond))
	if overflow := b.evalInt(`document.documentElement.scrollWidth - window.innerWidth`); overflow > 1 {
		t.Errorf("on a phone the page is %dpx wider than the screen", overflow)
	}
	b.shot("07-phone")
	b.run("wall display", chromedp.EmulateViewport(1920, 1080), chromedp.Sleep(300*time.Millisecond))
	if cols := b.evalInt(`getComputedStyle(document.getElementById('main')).gridTemplateColumns.split(' ').length`); cols != 3 {
		t.Errorf("a wall display shows %d columns of panels, want 3", cols)
	}
	b.shot("08-wall")
	t.Logf("screenshots in %s; whole test %.1fs", artifacts, time.Since(began).Seconds())
}

// findChromium fails (never skips) when no Chromium is installed.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the dashboard's browser tests need headless Chromium: install the Debian packages chromium and chromium-driver (infra/scripts/deps.sh does; make test runs it first)")
	return ""
}

// artifactsDir is where screenshots go: $SOMS_TEST_ARTIFACTS, else
// $TMPDIR/soms-artifacts, in a per-run subdirectory.
func artifactsDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("SOMS_TEST_ARTIFACTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "soms-artifacts")
	}
	dir := filepath.Join(root, "dashboard-"+time.Now().Format("20060102-150405"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts directory: %v", err)
	}
	t.Logf("screenshots go to %s", dir)
	return dir
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
	cfg.BackendURL, cfg.VoiceURL, cfg.WalletURL = stack.URL(harness.Backend), stack.URL(harness.Voice), stack.URL(harness.Wallet)
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
	resp, err := http.Get(fmt.Sprintf("%s/wallets/%d", stack.URL(harness.Wallet), user))
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

// browser is one headless Chromium tab.
type browser struct {
	t         *testing.T
	ctx       context.Context
	artifacts string
}

func newBrowser(t *testing.T, parent context.Context, chrome, artifacts string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox, // tests may run as root
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", chrome, err)
	}
	return &browser{t: t, ctx: ctx, artifacts: artifacts}
}

func (b *browser) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.runFor(step, 20*time.Second, actions...)
}

// runFor runs a step's actions within limit; a failure keeps a screenshot.
func (b *browser) runFor(step string, limit time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, limit)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		name := "failed-" + strings.ReplaceAll(step, " ", "-")
		b.shot(name)
		b.t.Fatalf("%s: %v (screenshot %s.png)", step, err, name)
	}
}

// shot saves a full-page PNG.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(b.artifacts, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

// value runs one action returning a value, failing the test on error.
func value[T any](b *browser, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
	return v
}

func (b *browser) evalBool(js string) bool {
	b.t.Helper()
	return value(b, "evaluate "+js, chromedp.Evaluate[bool](js))
}

func (b *browser) evalInt(js string) int {
	b.t.Helper()
	return value(b, "evaluate "+js, chromedp.Evaluate[int](js))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(value(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

func (b *browser) attrInt(sel, attr string) int {
	b.t.Helper()
	r := value(b, "attribute "+attr+" of "+sel, chromedp.AttributeValue(chromedp.CSS(sel), attr))
	n, err := strconv.Atoi(r.Value)
	if !r.Exists || err != nil {
		b.t.Fatalf("%s[%s] = %q, want a number", sel, attr, r.Value)
	}
	return n
}

// poll evaluates cond every 200 ms until it is true or limit passes.
func (b *browser) poll(cond string, limit time.Duration) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, limit)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(limit)))
	return err == nil
}

// auditResult is what testdata/audit.js returns.
type auditResult struct {
	Unlabeled   []string `json:"unlabeled"`
	NoAlt       []string `json:"noAlt"`
	LowContrast []string `json:"lowContrast"`
	Checked     int      `json:"contrastChecked"`
	Focusable   []string `json:"focusable"`
}

func (b *browser) runAudit() auditResult {
	b.t.Helper()
	return value(b, "accessibility audit", chromedp.Evaluate[auditResult](auditJS))
}

// audit: every form control has a label, every image a text alternative,
// and key text meets WCAG AA contrast against its background.
func (b *browser) audit() {
	b.t.Helper()
	res := b.runAudit()
	for _, s := range res.Unlabeled {
		b.t.Errorf("form control without a label: %s", s)
	}
	for _, s := range res.NoAlt {
		b.t.Errorf("image without a text alternative: %s", s)
	}
	for _, s := range res.LowContrast {
		b.t.Errorf("text below contrast 4.5:1 (3:1 large): %s", s)
	}
	if res.Checked < 20 {
		b.t.Errorf("the contrast check saw only %d elements", res.Checked)
	}
	b.t.Logf("accessibility: %d focusable controls, %d text elements checked for contrast", len(res.Focusable), res.Checked)
}

// keyboard tabs through the page and expects to reach every focusable
// control, in order, with the skip link first.
func (b *browser) keyboard() {
	b.t.Helper()
	want := b.runAudit().Focusable
	if len(want) < 10 {
		b.t.Fatalf("only %d focusable controls found: %v", len(want), want)
	}
	if want[0] != "#skip-link" {
		b.t.Errorf("the first focusable control is %s, want the skip link", want[0])
	}
	// Start at the skip link; audio players take several Tabs each.
	b.run("focus the skip link", chromedp.Focus(chromedp.CSS(`a.skip`)))
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
		b.run("press Tab", chromedp.KeyEvent(kb.Tab))
		who := value(b, "focused element", chromedp.Evaluate[string](`window.somsDescribe(document.activeElement)`))
		if !reached[who] {
			reached[who] = true
			order = append(order, who)
		}
	}
	for _, w := range want {
		if !reached[w] {
			b.t.Errorf("not reachable with the keyboard: %s", w)
		}
	}
	b.t.Logf("keyboard: Tab reaches %d controls, in order: %s", len(order), strings.Join(order, " "))
}
