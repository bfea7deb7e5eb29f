// Package frontend is the web dashboard's server: it serves the embedded
// static dashboard (package web) and reverse-proxies the product APIs under
// the paths the production nginx uses (infra/nginx/default.conf), plus the
// brain and, when configured, the simulator's control APIs. Event streams
// pass through unbuffered.
package frontend

import "github.com/somsgo/soms/internal/service"

// Config is read from the environment; see `soms env frontend`.
type Config struct {
	Common service.Common
	Addr   string `env:"FRONTEND_ADDR" default:":8088" doc:"HTTP listen address of the dashboard"`

	BackendURL string `env:"BACKEND_URL" default:"http://127.0.0.1:8000" doc:"dashboard backend, proxied at /api/ (prefix stripped)"`
	VoiceURL   string `env:"VOICE_URL" default:"http://127.0.0.1:8002" doc:"voice service, proxied at /api/voice/ and /audio/ (paths kept)"`
	BrainURL   string `env:"BRAIN_URL" default:"http://127.0.0.1:8080" doc:"brain, proxied at /api/brain/ (prefix stripped); empty: not proxied"`

	EdgeURL    string `env:"EDGE_URL" doc:"simulator: virtual edge control API, proxied at /api/sim/edge/; empty: not proxied (production)"`
	MockLLMURL string `env:"MOCKLLM_URL" doc:"simulator: mock LLM control API, proxied at /api/sim/mockllm/; empty: not proxied"`
	CameraURL  string `env:"CAMERA_URL" doc:"simulator: virtual cameras (snapshot.jpg), proxied at /api/sim/camera/; empty: not proxied"`
	HLSURL     string `env:"HLS_URL" doc:"simulator: the cameras' HLS server (soms camera with CAMERA_HLS=true, e.g. http://127.0.0.1:8888), proxied at /api/sim/hls/; empty: the dashboard shows snapshots"`
	HarnessURL string `env:"HARNESS_URL" doc:"simulator: harness control API (GET/PUT /clock), proxied at /api/sim/clock; empty: not proxied"`

	ReportsDir string `env:"FRONTEND_REPORTS_DIR" default:"reports" doc:"scenario reports (soms scenario run) served at /reports/; a missing directory lists none"`
}
