// Package browsertest drives the dashboard in headless Chromium for tests:
// the native browser test (services/frontend) and the one through the compose
// frontend's nginx (infra/e2e) share it. Every step has a time limit; a
// failing step keeps a screenshot.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// FindChromium fails (never skips) when no Chromium is installed.
func FindChromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the dashboard's browser tests need headless Chromium: install the Debian packages chromium and chromium-driver (infra/scripts/deps.sh does; make test runs it first)")
	return ""
}

// ArtifactsDir is where screenshots go: $SOMS_TEST_ARTIFACTS, else
// $TMPDIR/soms-artifacts, in a per-run subdirectory named after run.
func ArtifactsDir(t testing.TB, run string) string {
	t.Helper()
	root := os.Getenv("SOMS_TEST_ARTIFACTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "soms-artifacts")
	}
	dir := filepath.Join(root, run+"-"+time.Now().Format("20060102-150405"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts directory: %v", err)
	}
	t.Logf("screenshots go to %s", dir)
	return dir
}

// Browser is one headless Chromium tab.
type Browser struct {
	T         testing.TB
	Ctx       context.Context
	artifacts string
}

// New starts Chromium (chrome) with one tab; it ends with the test.
func New(t testing.TB, parent context.Context, chrome, artifacts string) *Browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox, // tests may run as root
		chromedp.Flag("disable-dev-shm-usage", true),
		// This machine's network is closed: no background requests.
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", chrome, err)
	}
	return &Browser{T: t, Ctx: ctx, artifacts: artifacts}
}

// Run runs a step's actions within 20 s.
func (b *Browser) Run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	b.RunFor(step, 20*time.Second, actions...)
}

// RunFor runs a step's actions within limit; a failure keeps a screenshot.
func (b *Browser) RunFor(step string, limit time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, limit)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		name := "failed-" + strings.ReplaceAll(step, " ", "-")
		b.Shot(name)
		b.T.Fatalf("%s: %v (screenshot %s.png)", step, err, name)
	}
}

// Shot saves a full-page PNG.
func (b *Browser) Shot(name string) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.T.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.artifacts, name+".png"), png, 0o644); err != nil {
		b.T.Errorf("screenshot %s: %v", name, err)
	}
}

// Value runs one action returning a value, failing the test on error.
func Value[T any](b *Browser, step string, a chromedp.Action[T]) T {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.T.Fatalf("%s: %v", step, err)
	}
	return v
}

// EvalBool evaluates a JavaScript expression.
func (b *Browser) EvalBool(js string) bool {
	b.T.Helper()
	return Value(b, "evaluate "+js, chromedp.Evaluate[bool](js))
}

// EvalInt evaluates a JavaScript expression.
func (b *Browser) EvalInt(js string) int {
	b.T.Helper()
	return Value(b, "evaluate "+js, chromedp.Evaluate[int](js))
}

// Text is the trimmed text of the element sel selects.
func (b *Browser) Text(sel string) string {
	b.T.Helper()
	return strings.TrimSpace(Value(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// AttrInt is a numeric attribute of the element sel selects.
func (b *Browser) AttrInt(sel, attr string) int {
	b.T.Helper()
	r := Value(b, "attribute "+attr+" of "+sel, chromedp.AttributeValue(chromedp.CSS(sel), attr))
	n, err := strconv.Atoi(r.Value)
	if !r.Exists || err != nil {
		b.T.Fatalf("%s[%s] = %q, want a number", sel, attr, r.Value)
	}
	return n
}

// Poll evaluates cond every 200 ms until it is true or limit passes.
func (b *Browser) Poll(cond string, limit time.Duration) bool {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, limit)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(limit)))
	return err == nil
}
