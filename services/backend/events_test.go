package backend

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/logging"
)

// stream subscribes to baseURL's event stream with c's credentials and
// returns a function reading the next event's type and data.
func stream(t *testing.T, ctx context.Context, baseURL string, c *backendapi.Client) func() (string, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/events/stream", nil)
	if c != nil && c.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.Bearer)
	}
	if c != nil && c.Token != "" {
		req.Header.Set(backendapi.ServiceTokenHeader, c.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() && lines.Text() != ": connected" {
	}
	return func() (string, string) {
		var event, data string
		for lines.Scan() {
			line := lines.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			case line == "" && event != "":
				return event, data
			}
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return "", ""
	}
}

// A payment names who was paid and how much only to that person,
// administrators and services; every other subscriber (the anonymous kiosk,
// colleagues) learns just that the task's reward was paid.
func TestPaymentEventsArePersonal(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	alice, bob := e.person(t, "alice"), e.person(t, "bob")
	root := e.admin(t, "root")
	aliceID := me(t, alice).ID
	subs := map[string]func() (string, string){
		"anonymous": stream(t, ctx, e.srv.URL, nil), "bob": stream(t, ctx, e.srv.URL, bob),
		"alice": stream(t, ctx, e.srv.URL, alice), "admin": stream(t, ctx, e.srv.URL, root), "service": stream(t, ctx, e.srv.URL, e.svc),
	}
	e.api.hub.PublishPersonal(EventPaymentPaid, aliceID,
		map[string]any{"task_id": 7, "user_id": aliceID, "amount": 1_500_000}, map[string]any{"task_id": 7})
	full := `{"amount":1500000,"task_id":7,"user_id":` + itoa(aliceID) + `}`
	for who, want := range map[string]string{"anonymous": `{"task_id":7}`, "bob": `{"task_id":7}`, "alice": full, "admin": full, "service": full} {
		if typ, data := subs[who](); typ != EventPaymentPaid || data != want {
			t.Errorf("%s received %s %s, want %s", who, typ, data, want)
		}
	}
}

// An event stream outlives the server's write timeout (which bounds
// ordinary answers): each write renews its own deadline.
func TestEventStreamOutlivesWriteTimeout(t *testing.T) {
	e := newEnv(t)
	s := httpx.New("backend", logging.Discard(), prometheus.NewRegistry())
	s.Limits.Write = 200 * time.Millisecond
	e.api.Routes(s.Router)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	next := stream(t, ctx, "http://"+ln.Addr().String(), nil)
	// Let several write timeouts pass on the open stream, then send.
	time.Sleep(4 * s.Limits.Write)
	e.api.hub.Publish(EventVoiceCreated, map[string]string{"message": "まだ聞こえる"})
	if typ, data := next(); typ != EventVoiceCreated || !strings.Contains(data, "まだ聞こえる") {
		t.Fatalf("after the write timeout the stream gave %s %s", typ, data)
	}
}
