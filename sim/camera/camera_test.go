package camera

import (
	"bytes"
	"encoding/json"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/sim/scene"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestPaletteKeysPeopleOnly(t *testing.T) {
	people := append([]color.RGBA{colSkin, colHair, colTrousers, colShoes}, shirts...)
	for _, c := range people {
		if k := personKey(c); k < 0.3 {
			t.Errorf("person colour %v has key %.2f, want ≥ 0.3", c, k)
		}
	}
	for _, c := range []color.RGBA{colWall, colFloor, colSkirting, colBoard, colBoardFrame, colInkBlack, colInkGreen, colDesk, colDeskLeg, colChair, colDoor, colShadow} {
		if k := personKey(c); k > 0.1 {
			t.Errorf("room colour %v has key %.2f, want ≤ 0.1", c, k)
		}
	}
}

func TestParseCameras(t *testing.T) {
	tests := []struct {
		in      []string
		want    int
		wantErr string
	}{
		{[]string{"cam_main@main", "cam_k@kitchen"}, 2, ""},
		{[]string{"cam_main"}, 0, "want id@zone"},
		{[]string{"a/b@main"}, 0, "want id@zone"},
		{[]string{"a@z", "a@y"}, 0, "twice"},
		{nil, 0, "empty"},
	}
	for _, tt := range tests {
		got, err := ParseCameras(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseCameras(%v) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != tt.want || got[0].Path != got[0].ID {
			t.Errorf("ParseCameras(%v) = %+v, %v", tt.in, got, err)
		}
	}
}

func TestFrameIsDeterministic(t *testing.T) {
	z := scene.Zone{Zone: "z", People: []scene.Person{{ID: "a", X: 0.3, Y: 0.5, Posture: scene.Walking, Motion: 0.5}}}
	a := Frame(z, 320, 240, 7, time.Second)
	b := Frame(z, 320, 240, 7, time.Second)
	c := Frame(z, 320, 240, 7, 1300*time.Millisecond)
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Error("same scene, seed and time drew different frames")
	}
	if bytes.Equal(a.Pix, c.Pix) {
		t.Error("a walking person did not move between frames")
	}
}

func TestStageWalksInAndOut(t *testing.T) {
	st := newStage(1, 2*time.Second)
	p := scene.Person{ID: "a", X: 0.3, Y: 0.5, Posture: scene.Sitting}
	st.set(scene.Zone{Zone: "z", People: []scene.Person{p}}, t0)
	tests := []struct {
		at      time.Duration
		n       int
		x       float64
		posture scene.Posture
	}{
		{0, 1, -0.1, scene.Walking},              // at the left edge
		{time.Second, 1, 0.1, scene.Walking},     // half-way
		{3 * time.Second, 1, 0.3, scene.Sitting}, // arrived
	}
	for _, tt := range tests {
		as := st.actors(t0.Add(tt.at))
		if len(as) != tt.n || abs(as[0].x-tt.x) > 1e-9 || as[0].posture != tt.posture {
			t.Fatalf("at %s: %+v, want x %g %s", tt.at, as, tt.x, tt.posture)
		}
	}
	st.set(scene.Zone{Zone: "z", People: []scene.Person{}}, t0.Add(10*time.Second))
	if as := st.actors(t0.Add(11 * time.Second)); len(as) != 1 || as[0].posture != scene.Walking || abs(as[0].x-0.1) > 1e-9 {
		t.Fatalf("leaving: %+v", as)
	}
	if as := st.actors(t0.Add(13 * time.Second)); len(as) != 0 {
		t.Fatalf("after leaving: %+v", as)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func newTestServer(t *testing.T) (*server, *httptest.Server) {
	t.Helper()
	cfg := Config{Width: 160, Height: 120, FPS: 5, Quality: 80, Seed: 1}
	s := &server{log: logging.Discard(), feeds: map[string]*feed{}, lastSeq: map[string]uint64{}}
	clk := clock.NewManual(t0)
	for _, c := range []Camera{{ID: "cam_a", Zone: "main", Path: "cam_a"}, {ID: "cam_b", Zone: "main", Path: "cam_b"}, {ID: "cam_k", Zone: "kitchen", Path: "cam_k"}} {
		s.feeds[c.ID] = newFeed(c, "rtsp://127.0.0.1:8554/"+c.Path, cfg, "", clk, logging.Discard())
		s.order = append(s.order, c.ID)
	}
	r := chi.NewRouter()
	s.routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return s, srv
}

func do(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestControlAPI(t *testing.T) {
	_, srv := newTestServer(t)
	tests := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"list", "GET", "/cameras", "", 200, `"id":"cam_k"`},
		{"unknown camera", "GET", "/cameras/nope/scene", "", 404, `"error":"camera nope not found"`},
		{"set scene", "PUT", "/cameras/cam_a/scene", `{"people":[{"id":"p1","x":0.2,"y":0.5,"posture":"standing"},{"id":"p2","x":0.7,"y":0.6,"posture":"fallen"}]}`, 200, `"zone":"main"`},
		{"same zone's other camera follows", "GET", "/cameras/cam_b/scene", "", 200, `"id":"p2"`},
		{"other zone untouched", "GET", "/cameras/cam_k/scene", "", 200, `"people":[]`},
		{"people counted", "GET", "/cameras/cam_a", "", 200, `"people":2`},
		{"bad posture", "PUT", "/cameras/cam_a/scene", `{"people":[{"id":"p1","x":0.2,"y":0.5,"posture":"dancing"}]}`, 422, `posture`},
		{"wrong zone", "PUT", "/cameras/cam_a/scene", `{"zone":"kitchen","people":[]}`, 422, `watches zone main`},
		{"not json", "PUT", "/cameras/cam_a/scene", `{`, 400, `"error"`},
		{"scene kept after bad requests", "GET", "/cameras/cam_a/scene", "", 200, `"id":"p1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, tt.method, srv.URL+tt.path, tt.body)
			if code != tt.status || !strings.Contains(string(body), tt.contains) {
				t.Fatalf("%s %s = %d %s, want %d containing %s", tt.method, tt.path, code, body, tt.status, tt.contains)
			}
		})
	}
	// snapshot is a JPEG of the configured size
	resp, err := http.Get(srv.URL + "/cameras/cam_a/snapshot.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	img, err := jpeg.Decode(resp.Body)
	if err != nil || resp.Header.Get("Content-Type") != "image/jpeg" || img.Bounds().Dx() != 160 {
		t.Fatalf("snapshot: %v %s", err, resp.Header.Get("Content-Type"))
	}
}

func TestSceneFromMQTT(t *testing.T) {
	s, _ := newTestServer(t)
	msg := func(seq uint64, retained bool, n int) bus.Message {
		z := scene.Zone{Zone: "kitchen", Seq: seq, People: []scene.Person{}}
		for i := range n {
			z.People = append(z.People, scene.Person{ID: string(rune('a' + i)), X: 0.5, Y: 0.5, Posture: scene.Standing})
		}
		b, _ := json.Marshal(z)
		return bus.Message{Topic: scene.Topic("kitchen"), Payload: b, Retained: retained}
	}
	steps := []struct {
		name string
		m    bus.Message
		want int
	}{
		{"live scene applies", msg(5, false, 2), 2},
		{"stale retained copy is ignored", msg(4, true, 1), 2},
		{"newer retained applies", msg(6, true, 3), 3},
		{"bad payload ignored", bus.Message{Topic: scene.Topic("kitchen"), Payload: []byte(`{"zone":"kitchen","people":[{"id":""}]}`)}, 3},
		{"mismatched zone ignored", bus.Message{Topic: scene.Topic("main"), Payload: msg(9, false, 1).Payload}, 3},
	}
	for _, st := range steps {
		s.onScene(st.m)
		if got := s.feeds["cam_k"].scene().Count(); got != st.want {
			t.Fatalf("%s: %d people, want %d", st.name, got, st.want)
		}
	}
}
