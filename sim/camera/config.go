// Package camera is the virtual camera: a real mediamtx RTSP server (started
// as a child process, or an existing one) and one publisher per camera that
// renders its zone's scene — people as articulated figures standing, sitting,
// walking or fallen, walking in and out, in front of desks, a door and a
// whiteboard — and streams it over RTSP as real cameras do: H.264 by default,
// H.265 or MJPEG on request, encoded by an FFmpeg child process.
//
// Scenes come from the virtual edge, which publishes each zone's scene
// retained on soms/sim/scene/{zone} (package scene), or straight from this
// package's control API (PUT /cameras/{id}/scene) when the camera runs alone.
package camera

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/service"
)

// Config is read from the environment; see `soms env camera`.
type Config struct {
	Common      service.Common
	Addr        string        `env:"CAMERA_ADDR" default:":8015" doc:"control API listen address"`
	Mediamtx    string        `env:"CAMERA_MEDIAMTX" doc:"mediamtx binary (default: the one infra/scripts/mediamtx.sh builds under .soms/cache, then mediamtx on PATH)"`
	RTSPPort    int           `env:"CAMERA_RTSP_PORT" default:"8554" doc:"RTSP port of the mediamtx server this process starts"`
	RTSPServer  string        `env:"CAMERA_RTSP_SERVER" doc:"publish to this existing RTSP server (rtsp://[user:pass@]host:port) instead of starting mediamtx"`
	Listen      string        `env:"CAMERA_LISTEN" default:"127.0.0.1" doc:"address the camera's mediamtx listens on (RTSP and HLS): 127.0.0.1, this machine only; compose sets 0.0.0.0 (the container's side; the compose file decides what is published)"`
	PublishPass string        `env:"CAMERA_PUBLISH_PASS" doc:"password of mediamtx's publisher account (user camera), which only this process uses; empty: a random one per start"`
	ReadUser    string        `env:"CAMERA_READ_USER" doc:"account readers must log in with (RTSP, HLS: perception puts it in its camera URLs, browsers ask); empty: anyone who reaches the port may watch"`
	ReadPass    string        `env:"CAMERA_READ_PASS" doc:"password of CAMERA_READ_USER"`
	Cameras     []string      `env:"CAMERA_CAMERAS" default:"cam_main@main,cam_meeting@meeting_room,cam_kitchen@kitchen" doc:"cameras as id@zone (the RTSP path is the id), comma-separated"`
	Width       int           `env:"CAMERA_WIDTH" default:"640" doc:"frame width in pixels"`
	Height      int           `env:"CAMERA_HEIGHT" default:"480" doc:"frame height in pixels"`
	FPS         float64       `env:"CAMERA_FPS" default:"5" doc:"frames per second (real time, whatever the simulated clock's speed)"`
	Codec       string        `env:"CAMERA_CODEC" default:"h264" doc:"what the cameras publish: h264 (as most IP cameras), h265 or mjpeg; encoded by ffmpeg"`
	Quality     int           `env:"CAMERA_JPEG_QUALITY" default:"80" doc:"JPEG quality 1-100 (snapshots, and the stream with CAMERA_CODEC=mjpeg)"`
	Transition  time.Duration `env:"CAMERA_TRANSITION" default:"2s" doc:"how long people take to walk in or out of view (simulated time; 0: appear at once)"`
	FollowScene bool          `env:"CAMERA_FOLLOW_SCENE" default:"true" doc:"follow the virtual edge's scenes on soms/sim/scene/{zone} (MQTT user sim); false: control API only"`
	Seed        uint64        `env:"SOMS_SIM_SEED" default:"1" doc:"seed of people's looks and animation phases"`

	HLS        bool   `env:"CAMERA_HLS" default:"false" doc:"also serve each camera as H.264 over HLS for browsers through mediamtx's HLS server (needs the camera's own mediamtx); H.264 cameras are served as they are, h265 and mjpeg ones through one ffmpeg transcoder each"`
	HLSPort    int    `env:"CAMERA_HLS_PORT" default:"8888" doc:"HLS port of the mediamtx server this process starts (CAMERA_HLS=true)"`
	HLSVariant string `env:"CAMERA_HLS_VARIANT" default:"fmp4" doc:"mediamtx HLS variant: fmp4 (robust, a few seconds behind), lowLatency or mpegts"`
	FFmpeg     string `env:"CAMERA_FFMPEG" doc:"ffmpeg binary that encodes the streams (and transcodes for CAMERA_HLS) (default: ffmpeg on PATH)"`
}

// Camera is one configured camera.
type Camera struct {
	ID   string `json:"id"`
	Zone string `json:"zone"`
	Path string `json:"path"`
}

// ParseCameras reads CAMERA_CAMERAS items ("id@zone").
func ParseCameras(items []string) ([]Camera, error) {
	var out []Camera
	seen := map[string]bool{}
	for _, it := range items {
		id, zone, ok := strings.Cut(it, "@")
		if !ok || id == "" || zone == "" || strings.ContainsAny(id, "/ ") || strings.ContainsAny(zone, "/+# ") {
			return nil, fmt.Errorf("camera %q: want id@zone (no slashes or spaces)", it)
		}
		if seen[id] {
			return nil, fmt.Errorf("camera %q listed twice", id)
		}
		seen[id] = true
		out = append(out, Camera{ID: id, Zone: zone, Path: id})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("CAMERA_CAMERAS is empty")
	}
	return out, nil
}

func (c Config) validate() error {
	switch {
	case c.Codec != CodecH264 && c.Codec != CodecH265 && c.Codec != CodecMJPEG:
		return fmt.Errorf("CAMERA_CODEC=%q: want h264, h265 or mjpeg", c.Codec)
	case c.Codec == CodecMJPEG && (c.Width < 16 || c.Width > 2040 || c.Height < 16 || c.Height > 2040):
		return fmt.Errorf("frame size %dx%d: each side must be 16..2040 (RTP/JPEG limit)", c.Width, c.Height)
	case c.Width < 16 || c.Width > 4096 || c.Height < 16 || c.Height > 4096 || c.Width%2 != 0 || c.Height%2 != 0:
		return fmt.Errorf("frame size %dx%d: each side must be even and 16..4096", c.Width, c.Height)
	case c.FPS <= 0 || c.FPS > 60:
		return fmt.Errorf("CAMERA_FPS=%g: want 0 < fps <= 60", c.FPS)
	case c.Quality < 1 || c.Quality > 100:
		return fmt.Errorf("CAMERA_JPEG_QUALITY=%d: want 1..100", c.Quality)
	case net.ParseIP(c.Listen) == nil:
		return fmt.Errorf("CAMERA_LISTEN=%q: want an IP address (127.0.0.1, 0.0.0.0)", c.Listen)
	case c.ReadUser != "" && c.ReadPass == "" || c.ReadUser == "" && c.ReadPass != "":
		return fmt.Errorf("CAMERA_READ_USER and CAMERA_READ_PASS go together")
	case c.ReadUser == PublisherUser:
		return fmt.Errorf("CAMERA_READ_USER=%s is the publisher's account", PublisherUser)
	case c.HLS && c.RTSPServer != "":
		return fmt.Errorf("CAMERA_HLS=true needs the camera's own mediamtx: leave CAMERA_RTSP_SERVER empty")
	case c.HLS && (c.HLSPort <= 0 || c.HLSPort > 65535 || c.HLSPort == c.RTSPPort):
		return fmt.Errorf("CAMERA_HLS_PORT=%d: want a free port other than CAMERA_RTSP_PORT", c.HLSPort)
	case c.HLS && c.HLSVariant != "lowLatency" && c.HLSVariant != "fmp4" && c.HLSVariant != "mpegts":
		return fmt.Errorf("CAMERA_HLS_VARIANT=%q: want lowLatency, fmp4 or mpegts", c.HLSVariant)
	}
	return nil
}
