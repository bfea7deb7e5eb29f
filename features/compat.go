package features

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mqttacl"
	"github.com/somsgo/soms/sim/harness"
)

// The contract with the original SOMS's clients: each step reads the raw
// JSON of a real service, so a field renamed or dropped fails here.

func (o *office) registerCompat(sc *godog.ScenarioContext) {
	sc.Step(`^the voice service's "([^"]+)" answers (\{.*\})$`, o.voiceAnswers)
	sc.Step(`^the voice service's synthesize, announce and feedback answers carry "text_generated" and "duration_seconds" beside "text" and "duration"$`, o.voiceOriginalNames)
	sc.Step(`^the kiosk accepts the task "([^"]+)" without a user$`, o.kioskAccepts)
	sc.Step(`^the kiosk completes the task "([^"]+)" with an empty body$`, o.kioskCompletes)
	sc.Step(`^the completion says nobody is paid$`, o.completionPaysNobody)
	sc.Step(`^the audit of "([^"]+)" records the completion as paying nobody$`, o.auditPaysNobody)
	sc.Step(`^the task statistics carry the original's keys: (.+)$`, o.statsKeys)
	sc.Step(`^"([^"]+)" completes the task "([^"]+)" without accepting it$`, o.completesUnaccepted)
	sc.Step(`^the latest sensor readings carry "timestamp" beside "at"$`, o.latestTimestamp)
	sc.Step(`^the raw time series without zone or channel has points with "timestamp" and "avg"$`, func(ctx context.Context) error {
		return o.seriesPoints(ctx, url.Values{"window": {"raw"}})
	})
	sc.Step(`^the hourly time series of "([^"]+)" in "([^"]+)" has points with "timestamp" and "avg"$`, func(ctx context.Context, ch, zone string) error {
		return o.seriesPoints(ctx, url.Values{"window": {"1h"}, "channel": {ch}, "zone": {zone}})
	})
	sc.Step(`^within (\d+) simulated minutes the event feed lists "([^"]+)" for "([^"]+)"$`, o.eventFeedLists)
	sc.Step(`^the LLM activity counts at least (\d+) cycles? with "cycles", "total_tool_calls", "avg_duration_sec" and "hours"$`, o.llmActivity)
	sc.Step(`^a device with the original firmware's credential publishes "([^"]+)" (\{.*\})$`, o.legacyDevicePublishes)
	sc.Step(`^it publishes "([^"]+)" (\{.*\})$`, o.legacyDevicePublishes)
	sc.Step(`^within (\d+) simulated minutes the dashboard's latest "([^"]+)" readings show ([\d.]+) from "([^"]+)"$`, o.latestReadingShows)
	sc.Step(`^the brain and the backend count the message under "([^"]+)"$`, o.unknownCounted)
}

// rawJSON GETs or sends a request and decodes the answer as generic JSON.
func (o *office) rawJSON(ctx context.Context, method, u string, body any, header http.Header, out any) error {
	c := o.api
	c.Header = header
	return c.Do(ctx, method, u, body, out)
}

func (o *office) voiceAnswers(ctx context.Context, path, want string) error {
	var got, w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		return err
	}
	if err := o.rawJSON(ctx, http.MethodGet, o.sys.URL(harness.Voice)+path, nil, nil, &got); err != nil {
		return err
	}
	if !reflect.DeepEqual(got, w) {
		return fmt.Errorf("GET %s answered %v, want %v", path, got, w)
	}
	return nil
}

func (o *office) voiceOriginalNames(ctx context.Context) error {
	for _, c := range []struct {
		path string
		body any
	}{
		{"/api/voice/synthesize", map[string]any{"text": "おはようございます。"}},
		{"/api/voice/announce", map[string]any{"task": map[string]any{"title": "換気を行ってください", "zone": "main", "urgency": 2}}},
		{"/api/voice/feedback/task_completed", nil},
	} {
		var got map[string]any
		if err := o.rawJSON(ctx, http.MethodPost, o.sys.URL(harness.Voice)+c.path, c.body, nil, &got); err != nil {
			return err
		}
		text, _ := got["text"].(string)
		dur, _ := got["duration"].(float64)
		if text == "" || dur <= 0 || got["text_generated"] != text || got["duration_seconds"] != dur {
			return fmt.Errorf("%s answered text %q duration %v, text_generated %v, duration_seconds %v", c.path, text, dur, got["text_generated"], got["duration_seconds"])
		}
	}
	return nil
}

func (o *office) taskURL(ctx context.Context, title, action string) (string, int64, error) {
	id, err := o.taskID(ctx, title)
	if err != nil {
		return "", 0, err
	}
	u := o.sys.URL(harness.Backend) + "/tasks/" + strconv.FormatInt(id, 10)
	if action != "" {
		u += "/" + action
	}
	return u, id, nil
}

func (o *office) kioskAccepts(ctx context.Context, title string) error {
	u, _, err := o.taskURL(ctx, title, "accept")
	if err != nil {
		return err
	}
	var t map[string]any
	if err := o.rawJSON(ctx, http.MethodPut, u, nil, nil, &t); err != nil {
		return err
	}
	if t["status"] != "accepted" || t["assigned_to"] != nil || t["accepted_at"] == nil {
		return fmt.Errorf("kiosk accept answered status %v, assigned_to %v, accepted_at %v", t["status"], t["assigned_to"], t["accepted_at"])
	}
	return nil
}

func (o *office) kioskCompletes(ctx context.Context, title string) error {
	u, _, err := o.taskURL(ctx, title, "complete")
	if err != nil {
		return err
	}
	o.reply = nil
	return o.rawJSON(ctx, http.MethodPut, u, nil, nil, &o.reply)
}

func (o *office) completionPaysNobody(context.Context) error {
	r := o.reply
	if r["status"] != "completed" || r["report_status"] != "no_issue" || r["reward"] != "none" {
		return fmt.Errorf("completion answered status %v, report_status %v, reward %v", r["status"], r["report_status"], r["reward"])
	}
	if v, ok := r["paid_to"]; !ok || v != nil {
		return fmt.Errorf("completion answered paid_to %v (present %v), want null", v, ok)
	}
	return nil
}

func (o *office) auditPaysNobody(ctx context.Context, title string) error {
	u, _, err := o.taskURL(ctx, title, "audit")
	if err != nil {
		return err
	}
	var es []backendapi.AuditEntry
	// The audit trail is for administrators and services.
	if err := o.rawJSON(ctx, http.MethodGet, u, nil, http.Header{backendapi.ServiceTokenHeader: {o.sys.Token()}}, &es); err != nil {
		return err
	}
	if len(es) == 0 {
		return fmt.Errorf("no audit entries")
	}
	last := es[len(es)-1]
	if last.Action != "completed" || last.Actor != "anonymous" || last.Note == nil || !strings.Contains(*last.Note, "nobody paid") {
		return fmt.Errorf("last audit entry %+v (note %v), want a completion by anonymous paying nobody", last, last.Note)
	}
	return nil
}

func (o *office) statsKeys(ctx context.Context, list string) error {
	var st map[string]any
	if err := o.rawJSON(ctx, http.MethodGet, o.sys.URL(harness.Backend)+"/tasks/stats", nil, nil, &st); err != nil {
		return err
	}
	for _, kv := range strings.Split(list, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), " ")
		if !ok {
			return fmt.Errorf("bad key list item %q", kv)
		}
		want, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return err
		}
		if got, ok := st[k].(float64); !ok || got != want {
			return fmt.Errorf("GET /tasks/stats %s = %v, want %v (answer %v)", k, st[k], want, st)
		}
	}
	return nil
}

func (o *office) completesUnaccepted(ctx context.Context, name, title string) error {
	p, err := o.who(name)
	if err != nil {
		return err
	}
	u, _, err := o.taskURL(ctx, title, "complete")
	if err != nil {
		return err
	}
	var t backendapi.CompletedTask
	if err := o.rawJSON(ctx, http.MethodPut, u, nil, http.Header{"Authorization": {"Bearer " + p.dash.Bearer}}, &t); err != nil {
		return err
	}
	if t.PaidTo == nil || *t.PaidTo != p.user.ID || t.Reward != backendapi.RewardPending {
		return fmt.Errorf("completion pays %v (%s), want %s", t.PaidTo, t.Reward, name)
	}
	o.task = &t.Task
	return nil
}

func (o *office) latestTimestamp(ctx context.Context) error {
	var rs []map[string]any
	if err := o.rawJSON(ctx, http.MethodGet, o.sys.URL(harness.Backend)+"/sensors/latest", nil, nil, &rs); err != nil {
		return err
	}
	if len(rs) == 0 {
		return fmt.Errorf("no latest readings")
	}
	for _, r := range rs {
		if r["timestamp"] == nil || r["timestamp"] != r["at"] {
			return fmt.Errorf("reading %v: timestamp %v beside at %v", r, r["timestamp"], r["at"])
		}
	}
	return nil
}

func (o *office) seriesPoints(ctx context.Context, q url.Values) error {
	var s struct {
		Window string           `json:"window"`
		Points []map[string]any `json:"points"`
	}
	if err := o.rawJSON(ctx, http.MethodGet, o.sys.URL(harness.Backend)+"/sensors/time-series?"+q.Encode(), nil, nil, &s); err != nil {
		return err
	}
	if len(s.Points) == 0 || s.Window != q.Get("window") {
		return fmt.Errorf("time series %v: window %q, %d points", q, s.Window, len(s.Points))
	}
	for _, p := range s.Points {
		if p["timestamp"] == nil || p["timestamp"] != p["at"] || p["avg"] != p["value"] {
			return fmt.Errorf("point %v lacks timestamp/avg", p)
		}
	}
	return nil
}

func (o *office) eventFeedLists(ctx context.Context, minutes int, typ, zone string) error {
	return o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var evs []map[string]any
		if err := o.rawJSON(ctx, http.MethodGet, o.sys.URL(harness.Backend)+"/sensors/events?zone="+url.QueryEscape(zone), nil, nil, &evs); err != nil {
			return false, err
		}
		for _, e := range evs {
			if e["event_type"] == typ && e["timestamp"] != nil {
				_, hasDevice := e["source_device"]
				_, hasData := e["data"].(map[string]any)
				return hasDevice && hasData, nil
			}
		}
		return false, nil
	})
}

func (o *office) llmActivity(ctx context.Context, n int) error {
	var a map[string]any
	if err := o.rawJSON(ctx, http.MethodGet, o.sys.URL(harness.Backend)+"/sensors/llm-activity?hours=1", nil, nil, &a); err != nil {
		return err
	}
	for _, k := range []string{"cycles", "total_tool_calls", "avg_duration_sec", "hours"} {
		if _, ok := a[k].(float64); !ok {
			return fmt.Errorf("llm-activity %v lacks %s", a, k)
		}
	}
	if a["cycles"].(float64) < float64(n) || a["hours"] != 1.0 {
		return fmt.Errorf("llm-activity %v, want at least %d cycles in 1 hour", a, n)
	}
	var tl struct {
		Hours  int              `json:"hours"`
		Points []map[string]any `json:"points"`
	}
	if err := o.rawJSON(ctx, http.MethodGet, o.sys.URL(harness.Backend)+"/sensors/llm-timeline", nil, nil, &tl); err != nil {
		return err
	}
	if tl.Hours != 24 || len(tl.Points) == 0 || tl.Points[0]["timestamp"] == nil {
		return fmt.Errorf("llm-timeline %+v", tl)
	}
	return nil
}

// legacyDevicePublishes connects as the original firmware does (user soms,
// its flashed password) and publishes one message.
func (o *office) legacyDevicePublishes(ctx context.Context, topic, payload string) error {
	if o.device == nil {
		cfg := o.sys.MQTT(mqttacl.UserLegacy)
		cfg.Pass = mqttacl.LegacyPassword
		o.device = bus.New(cfg, "esp32-original-firmware", logging.Discard(), prometheus.NewRegistry())
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := o.device.WaitConnected(wctx); err != nil {
			return fmt.Errorf("the original firmware's credential (soms/%s) was refused: %w", mqttacl.LegacyPassword, err)
		}
	}
	var v any
	if err := json.Unmarshal([]byte(payload), &v); err != nil {
		return err
	}
	return o.device.PublishJSON(ctx, topic, 1, false, v)
}

func (o *office) latestReadingShows(ctx context.Context, minutes int, channel string, value float64, device string) error {
	return o.within(ctx, time.Duration(minutes)*time.Minute, func() (bool, error) {
		var rs []map[string]any
		if err := o.rawJSON(ctx, http.MethodGet, o.sys.URL(harness.Backend)+"/sensors/latest?channel="+url.QueryEscape(channel), nil, nil, &rs); err != nil {
			return false, err
		}
		for _, r := range rs {
			if r["device_id"] == device && r["value"] == value {
				return true, nil
			}
		}
		return false, nil
	})
}

func (o *office) unknownCounted(ctx context.Context, prefix string) error {
	for svc, metric := range map[string]string{harness.Brain: "soms_brain_unknown_topics_total", harness.Backend: "soms_backend_unknown_topics_total"} {
		err := o.within(ctx, 2*time.Minute, func() (bool, error) {
			n, err := o.metric(ctx, svc, metric+`{prefix="`+prefix+`"}`)
			return n >= 1, err
		})
		if err != nil {
			return fmt.Errorf("%s does not count %s messages: %w", svc, prefix, err)
		}
	}
	return nil
}

// metric reads one sample of a service's /metrics (0 when absent).
func (o *office) metric(ctx context.Context, svc, series string) (float64, error) {
	resp, err := o.api.Send(ctx, httpx.Request{Method: http.MethodGet, Path: o.sys.URL(svc) + "/metrics"})
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(strings.NewReader(string(resp.Body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, sc.Err()
}
