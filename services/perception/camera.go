package perception

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// How FFmpeg reads a camera.
const (
	InputRTSP     = "rtsp"     // rtsp:// or rtsps://, RTP over TCP: H.264, H.265, MJPEG…
	InputHTTP     = "http"     // http(s):// stream: multipart MJPEG (ESP32-CAM :81/stream) or anything FFmpeg probes
	InputSnapshot = "snapshot" // http(s):// URL answering one JPEG per request (ESP32-CAM /capture), polled at the detection rate
	InputV4L2     = "v4l2"     // /dev/videoN (USB webcams)
)

// Hardware decoding.
const (
	HWNone  = "none"
	HWVAAPI = "vaapi" // Intel/AMD through a DRM render node
	HWCUDA  = "cuda"  // NVIDIA (NVDEC)
)

// defaultRenderNode is the first GPU's render node, the usual VAAPI device.
const defaultRenderNode = "/dev/dri/renderD128"

// HWAccel is a camera's hardware-decode setting.
type HWAccel struct {
	Kind   string `json:"kind"`             // none, vaapi or cuda
	Device string `json:"device,omitempty"` // vaapi: render node; cuda: GPU index
}

func (h HWAccel) String() string {
	if h.Device == "" {
		return h.Kind
	}
	return h.Kind + ":" + h.Device
}

// ParseHWAccel reads none, vaapi[:/dev/dri/renderDN] or cuda[:N].
func ParseHWAccel(s string) (HWAccel, error) {
	kind, dev, _ := strings.Cut(strings.TrimSpace(s), ":")
	switch kind {
	case HWNone, "":
		if dev != "" {
			return HWAccel{}, fmt.Errorf("hwaccel %q: none takes no device", s)
		}
		return HWAccel{Kind: HWNone}, nil
	case HWVAAPI:
		if dev == "" {
			dev = defaultRenderNode
		}
		if !strings.HasPrefix(dev, "/dev/") {
			return HWAccel{}, fmt.Errorf("hwaccel %q: want vaapi:/dev/dri/renderDN", s)
		}
		return HWAccel{Kind: HWVAAPI, Device: dev}, nil
	case HWCUDA:
		if dev == "" {
			dev = "0"
		}
		if n, err := strconv.Atoi(dev); err != nil || n < 0 {
			return HWAccel{}, fmt.Errorf("hwaccel %q: want cuda or cuda:N (the GPU's index)", s)
		}
		return HWAccel{Kind: HWCUDA, Device: dev}, nil
	}
	return HWAccel{}, fmt.Errorf("hwaccel %q: want none, vaapi[:/dev/dri/renderDN] or cuda[:N]", s)
}

// CameraSpec is one configured camera.
type CameraSpec struct {
	ID    string
	Zone  string
	Input string  // InputRTSP, InputHTTP, InputSnapshot or InputV4L2
	FPS   float64 // detection rate: frames per second handed to the pipeline
	HW    HWAccel
	// V4L2 capture settings (empty: the device's default).
	VideoSize, InputFormat string

	url    string // as configured, credentials included: only FFmpeg sees it
	redact *redactor
}

// URL is the camera's address with credentials replaced by xxxxx: the only
// form that appears in logs, errors and GET /cameras.
func (c CameraSpec) URL() string { return c.redact.Redact(c.url) }

// CameraDefaults are the settings of cameras that do not set their own.
type CameraDefaults struct {
	FPS float64
	HW  HWAccel
}

// ParseCameras reads PERCEPTION_CAMERAS items:
//
//	id@zone=URL[;option…]
//
// URL is rtsp://, rtsps://, http(s):// or a V4L2 device (/dev/videoN). Options:
// fps=N (detection rate), hwaccel=none|vaapi[:/dev/dri/renderDN]|cuda[:N],
// snapshot (an http(s) URL that answers one JPEG per request), and for V4L2
// size=WxH and format=mjpeg|yuyv422|…. Errors never quote the URL: it may
// carry credentials.
func ParseCameras(items []string, d CameraDefaults) ([]CameraSpec, error) {
	var out []CameraSpec
	seen := map[string]bool{}
	for _, it := range items {
		head, rest, ok := strings.Cut(it, "=")
		id, zone, ok2 := strings.Cut(head, "@")
		if !ok || !ok2 || id == "" || zone == "" || strings.ContainsAny(id, "/+# ") || strings.ContainsAny(zone, "/+# ") {
			return nil, fmt.Errorf("camera %q: want id@zone=URL[;option…]", head)
		}
		parts := strings.Split(rest, ";")
		c := CameraSpec{ID: id, Zone: zone, FPS: d.FPS, HW: d.HW, url: strings.TrimSpace(parts[0])}
		if err := c.setURL(); err != nil {
			return nil, fmt.Errorf("camera %s: %w", id, err)
		}
		for _, opt := range parts[1:] {
			if err := c.setOption(strings.TrimSpace(opt)); err != nil {
				return nil, fmt.Errorf("camera %s: %w", id, err)
			}
		}
		if (c.VideoSize != "" || c.InputFormat != "") && c.Input != InputV4L2 {
			return nil, fmt.Errorf("camera %s: size= and format= are V4L2 (/dev/videoN) settings", id)
		}
		if seen[id] {
			return nil, fmt.Errorf("camera %q listed twice", id)
		}
		seen[id] = true
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("PERCEPTION_CAMERAS is empty")
	}
	return out, nil
}

func (c *CameraSpec) setURL() error {
	if strings.HasPrefix(c.url, "/dev/") {
		c.Input = InputV4L2
		c.redact = &redactor{}
		return nil
	}
	u, err := url.Parse(c.url)
	if err != nil {
		// url.Error quotes the URL; only say what is wrong with it.
		var inner error = err
		if ue, ok := err.(*url.Error); ok {
			inner = ue.Err
		}
		return fmt.Errorf("the URL does not parse: %v", inner)
	}
	c.redact = newRedactor(c.url, u)
	switch u.Scheme {
	case "rtsp", "rtsps":
		c.Input = InputRTSP
	case "http", "https":
		c.Input = InputHTTP
	default:
		return fmt.Errorf("%s: want rtsp://, rtsps://, http(s):// or /dev/videoN", c.URL())
	}
	if u.Host == "" {
		return fmt.Errorf("%s: no host", c.URL())
	}
	return nil
}

var videoSize = regexp.MustCompile(`^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$`)

func (c *CameraSpec) setOption(opt string) error {
	key, val, _ := strings.Cut(opt, "=")
	switch key {
	case "fps":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || f <= 0 || f > 60 {
			return fmt.Errorf("fps=%s: want 0 < fps <= 60", val)
		}
		c.FPS = f
	case "hwaccel":
		h, err := ParseHWAccel(val)
		if err != nil {
			return err
		}
		c.HW = h
	case "snapshot":
		if c.Input != InputHTTP || val != "" {
			return fmt.Errorf("snapshot: a flag for http(s):// URLs that answer one JPEG per request")
		}
		c.Input = InputSnapshot
	case "size":
		if !videoSize.MatchString(val) {
			return fmt.Errorf("size=%s: want WxH", val)
		}
		c.VideoSize = val
	case "format":
		if val == "" || strings.ContainsAny(val, " /") {
			return fmt.Errorf("format=%s: want a V4L2 input format such as mjpeg or yuyv422", val)
		}
		c.InputFormat = val
	default:
		return fmt.Errorf("unknown option %q (fps, hwaccel, snapshot, size, format)", key)
	}
	return nil
}

// redactor hides a camera URL's credentials — user info and secret-looking
// query parameters — wherever they appear: in the URL itself and in any line
// FFmpeg writes (it quotes its input, and some errors quote the URL).
type redactor struct {
	secrets []string // longest first
}

const redacted = "xxxxx"

// secretParam matches query keys that carry credentials (Foscam ?usr=&pwd=,
// Dahua ?password=, tokens of cloud relays).
var secretParam = regexp.MustCompile(`(?i)pass|pwd|token|secret|key|auth|sig|user|usr|login`)

func newRedactor(raw string, u *url.URL) *redactor {
	r := &redactor{}
	add := func(s string) {
		if s != "" && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	if u.User != nil {
		// The user info as written, as Go re-encodes it, and decoded.
		if _, rest, ok := strings.Cut(raw, "://"); ok {
			authority, _, _ := strings.Cut(rest, "/")
			if i := strings.LastIndex(authority, "@"); i >= 0 {
				add(authority[:i+1])
			}
		}
		add(u.User.String() + "@")
		name := u.User.Username()
		pass, _ := u.User.Password()
		plain := name
		if pass != "" {
			plain += ":" + pass
		}
		add(plain + "@")
		// Alone they are redacted only when long enough not to rewrite
		// ordinary words of FFmpeg's messages.
		for _, s := range []string{pass, url.QueryEscape(pass), url.PathEscape(pass), name} {
			if len(s) >= 4 {
				add(s)
			}
		}
	}
	for _, kv := range strings.Split(u.RawQuery, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && v != "" && secretParam.MatchString(k) {
			add(v)
			if dv, err := url.QueryUnescape(v); err == nil {
				add(dv)
			}
		}
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return r
}

// Redact replaces every secret in s.
func (r *redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	for _, sec := range r.secrets {
		repl := redacted
		if strings.HasSuffix(sec, "@") {
			repl += "@"
		}
		s = strings.ReplaceAll(s, sec, repl)
	}
	return s
}
