package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/httpx"
)

// coldUp is how long TestMain's `compose up` took, fresh volumes and all,
// until every service was healthy.
var coldUp time.Duration

// goServices are the production services written in Go (the soms and
// perception images); the simulators are reported apart.
var goServices = map[string]bool{"backend": true, "brain": true, "wallet": true, "voice-service": true, "perception": true}

// BenchmarkComposeFigures prints what the compose deployment costs: the size
// of every image, the time from `compose up` to all healthy (cold: new
// volumes; warm: after `down` with the volumes kept), and the memory of every
// container idle and at its peak during a busy office. Run it once:
//
//	cd infra && go test -run '^$' -bench ComposeFigures -benchtime 1x ./e2e
func BenchmarkComposeFigures(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		var out strings.Builder
		fmt.Fprintf(&out, "\n%-44s %10s\n", "image", "size")
		for _, img := range images(b) {
			fmt.Fprintf(&out, "%-44s %8.1fMB\n", img.name, img.mb)
		}

		// Fresh processes (the reset restarts them), settled, then busy.
		e := newEconomy(b, ctx)
		if err := settle(ctx, 15*time.Second); err != nil {
			b.Fatal(err)
		}
		idle := memory(b)
		peak := busyPeak(b, ctx, e, 45*time.Second)

		began := time.Now()
		if err := sys.Down(ctx); err != nil {
			b.Fatal(err)
		}
		st := containerClock()
		if err := sys.Up(ctx, &st); err != nil {
			b.Fatal(err)
		}
		warm := time.Since(began)

		fmt.Fprintf(&out, "\ncompose up → all healthy: cold %.1fs, warm (down, up) %.1fs\n", coldUp.Seconds(), warm.Seconds())
		fmt.Fprintf(&out, "\n%-22s %10s %10s\n", "container", "idle MB", "busy MB")
		names := make([]string, 0, len(idle))
		for n := range idle {
			names = append(names, n)
		}
		sort.Strings(names)
		var goIdle, goPeak float64
		for _, n := range names {
			mark := ""
			if goServices[n] {
				goIdle += idle[n]
				goPeak += peak[n]
				mark = " (Go service)"
			}
			fmt.Fprintf(&out, "%-22s %10.1f %10.1f%s\n", n, idle[n], peak[n], mark)
		}
		fmt.Fprintf(&out, "%-22s %10.1f %10.1f (goal: under 150 MB)\n", "SOMS Go services", goIdle, goPeak)
		fmt.Print(out.String())
		b.ReportMetric(coldUp.Seconds(), "cold-up-s")
		b.ReportMetric(warm.Seconds(), "warm-up-s")
		b.ReportMetric(goIdle, "go-idle-MB")
		b.ReportMetric(goPeak, "go-busy-MB")
	}
}

type image struct {
	name string
	mb   float64
}

// images are the project's images and the local stand-ins, with sizes.
func images(b *testing.B) []image {
	repo := os.Getenv("SOMS_IMAGE_REPO")
	if repo == "" {
		repo = "soms.local"
	}
	version := os.Getenv("SOMS_VERSION")
	if version == "" {
		version = "0.1.0"
	}
	var out []image
	for _, name := range []string{repo + "/soms", repo + "/sim", repo + "/perception", repo + "/frontend"} {
		out = append(out, image{name + ":" + version, imageMB(b, name+":"+version)})
	}
	for _, name := range []string{"soms-local/mosquitto:2.0.11", "soms-local/postgres:15", "soms-local/nginx-unprivileged:bookworm"} {
		out = append(out, image{name + " (stand-in)", imageMB(b, name)})
	}
	return out
}

func imageMB(b *testing.B, name string) float64 {
	raw, err := exec.Command("docker", "image", "inspect", "--format", "{{.Size}}", name).Output()
	if err != nil {
		b.Fatalf("docker image inspect %s: %v", name, err)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(string(raw)), 64)
	if err != nil {
		b.Fatal(err)
	}
	return n / 1e6
}

// memory is `docker stats` of the project's containers, in MB by service.
func memory(b *testing.B) map[string]float64 {
	raw, err := exec.Command("docker", "stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}").Output()
	if err != nil {
		b.Fatalf("docker stats: %v", err)
	}
	out := map[string]float64{}
	prefix := sys.Project() + "-"
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		name, usage, ok := strings.Cut(line, "\t")
		if !ok || !strings.HasPrefix(name, prefix) {
			continue
		}
		svc := strings.TrimSuffix(strings.TrimPrefix(name, prefix), "-1")
		used, _, _ := strings.Cut(usage, " / ")
		mb, err := parseSize(used)
		if err != nil {
			b.Fatalf("docker stats %q: %v", line, err)
		}
		out[svc] = mb
	}
	return out
}

// parseSize reads docker's sizes (12.5MiB, 1.2GiB, 900KiB, 0B) as MB.
func parseSize(s string) (float64, error) {
	s = strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		mb     float64
	}{{"GiB", 1024 * 1.048576}, {"MiB", 1.048576}, {"KiB", 1.024 / 1000}, {"kB", 0.001}, {"MB", 1}, {"GB", 1000}, {"B", 1e-6}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f * u.mb, err
		}
	}
	return 0, fmt.Errorf("unknown size %q", s)
}

// busyPeak keeps the office busy for d — every zone crowded and stuffy,
// people doing tasks — and returns each container's highest memory seen.
func busyPeak(b *testing.B, ctx context.Context, e *economy, d time.Duration) map[string]float64 {
	api := httpx.Client{HTTP: &http.Client{Timeout: 10 * time.Second}}
	for _, zone := range []string{"main", "meeting_room", "kitchen"} {
		if err := api.Do(ctx, http.MethodPatch, sys.URL("edge")+"/zones/"+zone, map[string]any{"co2": 1600, "people": 6}, nil); err != nil {
			b.Fatal(err)
		}
	}
	peak := map[string]float64{}
	stop := time.Now().Add(d)
	for i := 0; time.Now().Before(stop); i++ {
		a := acked{completed: map[int64]int64{}}
		e.cycle(ctx, i, &a)
		for k, v := range memory(b) {
			peak[k] = max(peak[k], v)
		}
	}
	return peak
}

// settle lets the freshly started office run for d before measuring it.
func settle(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
