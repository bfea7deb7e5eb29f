package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/jsonnum"
	"github.com/somsgo/soms/internal/mcp"
	"github.com/somsgo/soms/internal/topic"
	"github.com/somsgo/soms/internal/wallet"
	"github.com/somsgo/soms/sim/mockllm"
	"github.com/somsgo/soms/sim/scene"
)

// Entry is one line of the run's timeline (report.json and plot markers).
type Entry struct {
	At     time.Time `json:"at"`
	Offset string    `json:"offset"`
	// Kind is step, task, command, speech, event, llm, scene or error.
	Kind string         `json:"kind"`
	Zone string         `json:"zone,omitempty"`
	Text string         `json:"text"`
	Data map[string]any `json:"data,omitempty"`
}

// Point is one telemetry reading.
type Point struct {
	At    time.Time `json:"at"`
	Value float64   `json:"value"`
}

// plotted are the telemetry channels recorded for the report's plots.
var plotted = map[string]bool{"co2": true, "temperature": true, "humidity": true, "illuminance": true, "motion": true, "presence": true, "door": true}

// observer watches the product interfaces during a run.
type observer struct {
	clock interface{ Now() time.Time }
	// onBus is the clock as the observer's own MQTT connection carries it:
	// a message is stamped with the step it came in, the step its
	// publisher was handling (the broker keeps one connection's messages in
	// order, and the next step follows every process's acknowledgement).
	onBus     *clock.Sim
	start     time.Time
	backend   string
	brain     string
	mock      string
	walletURL string
	// walletToken is the stack's service token, which wallet reads need.
	walletToken string
	walletIDs   []int64
	worldZone   []string
	api         httpx.Client

	mu       sync.Mutex
	entries  []Entry
	series   map[string]map[string]map[string][]Point // zone → channel → device → points
	tasks    map[int64]ObservedTask
	commands []ObservedCommand
	voice    map[string]ObservedVoice
	voiceErr string
	llm      []mockllm.Recorded
	llmSeq   int64
	events   map[uint64]bool
	evList   []ObservedEvent
	wallet   map[int64][]Sample
	walletE  string
	world    map[string][]WorldSample
	worldE   string
	ack      ack
	// before is what a running office held before the run (noteHistory).
	before history
}

func newObserver(c interface{ Now() time.Time }, start time.Time) *observer {
	return &observer{
		clock: c, onBus: clock.NewSim(), start: start, api: httpx.Client{HTTP: &http.Client{Timeout: 5 * time.Second}, MaxAnswer: 32 << 20},
		series: map[string]map[string]map[string][]Point{}, tasks: map[int64]ObservedTask{},
		voice: map[string]ObservedVoice{}, events: map[uint64]bool{}, wallet: map[int64][]Sample{}, world: map[string][]WorldSample{},
		ack:    ack{completed: map[int64]bool{}, ledger: map[int64]map[int64]bool{}},
		before: history{voice: map[string]bool{}, ledger: map[int64]map[int64]bool{}},
	}
}

func (o *observer) add(e Entry) {
	if e.At.IsZero() {
		e.At = o.clock.Now()
	}
	e.Offset = fmtOffset(e.At.Sub(o.start))
	o.mu.Lock()
	o.entries = append(o.entries, e)
	o.mu.Unlock()
}

// onClock follows the clock's steps on the observer's connection.
func (o *observer) onClock(m bus.Message) {
	st, err := clock.ParseState(m.Payload)
	if err != nil || st.Step < o.onBus.State().Step {
		return
	}
	o.onBus.Set(st)
}

// busNow is the simulated time of a message that just came in.
func (o *observer) busNow() time.Time {
	if st := o.onBus.State(); st.Stepped() {
		return st.SimTime
	}
	return o.clock.Now()
}

// onMessage records telemetry, device commands and scene changes.
func (o *observer) onMessage(m bus.Message) {
	now := o.busNow()
	if t, ok := topic.ParseMCP(m.Topic); ok {
		if t.Dir != "request" {
			return
		}
		req, err := mcp.ParseRequest(m.Payload)
		if err != nil {
			return
		}
		c := ObservedCommand{At: now, Agent: t.Agent, Tool: req.Params.Name, Args: req.Params.Arguments, ID: req.ID}
		o.mu.Lock()
		o.commands = append(o.commands, c)
		o.mu.Unlock()
		o.add(Entry{At: now, Kind: "command", Text: fmt.Sprintf("%s.%s %v", c.Agent, c.Tool, c.Args), Data: map[string]any{"agent": c.Agent, "tool": c.Tool}})
		return
	}
	if z, ok := scene.ZoneFromTopic(m.Topic); ok {
		if m.Retained {
			return
		}
		sc, err := scene.Decode(m.Payload)
		if err != nil {
			return
		}
		o.record(z, "people", "scene", float64(sc.Count()), now)
		return
	}
	t, ok := topic.ParseOffice(m.Topic)
	if !ok || t.Kind != topic.KindSensor || t.DeviceID == "" || m.Retained {
		return
	}
	var payload map[string]any
	if json.Unmarshal(m.Payload, &payload) != nil {
		return
	}
	if t.Channel == "status" {
		for ch, v := range payload {
			if f, ok := jsonnum.Float(v, plotAccept); ok && plotted[ch] {
				o.record(t.Zone, ch, t.DeviceID, f, now)
			}
		}
		return
	}
	if !plotted[t.Channel] {
		return
	}
	if f, ok := jsonnum.Float(payload["value"], plotAccept); ok {
		o.record(t.Zone, t.Channel, t.DeviceID, f, now)
	}
}

// plotAccept is what the observer plots as a reading: JSON numbers and
// booleans (true = 1), as the backend records them; not numeric strings.
const plotAccept = jsonnum.Numbers | jsonnum.Bools

func (o *observer) record(zone, channel, device string, v float64, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	chans := o.series[zone]
	if chans == nil {
		chans = map[string]map[string][]Point{}
		o.series[zone] = chans
	}
	devs := chans[channel]
	if devs == nil {
		devs = map[string][]Point{}
		chans[channel] = devs
	}
	devs[device] = append(devs[device], Point{At: at, Value: v})
}

// poll reads the HTTP product interfaces every interval of wall time until
// ctx ends, and once more at the end.
func (o *observer) poll(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	slow := 0
	for {
		o.pollTasks(ctx)
		o.pollWorld(ctx)
		if slow%4 == 0 {
			o.pollVoice(ctx)
			o.pollLLM(ctx)
			o.pollEvents(ctx)
			o.pollWallet(ctx)
			o.pollLedger(ctx)
		}
		slow++
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// final polls everything once more after the run (with a fresh context).
func (o *observer) final() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o.pollTasks(ctx)
	o.pollVoice(ctx)
	o.pollLLM(ctx)
	o.pollEvents(ctx)
}

func (o *observer) getJSON(ctx context.Context, u string, out any) error {
	return o.api.Do(ctx, http.MethodGet, u, nil, out)
}

func (o *observer) pollTasks(ctx context.Context) {
	var tasks []backendapi.Task
	if err := o.getJSON(ctx, o.backend+"/tasks/?limit=500", &tasks); err != nil {
		return
	}
	for _, t := range tasks {
		o.mu.Lock()
		if o.before.existed(t.ID) {
			o.mu.Unlock()
			continue
		}
		_, seen := o.tasks[t.ID]
		zone := ""
		if t.Zone != nil {
			zone = *t.Zone
		}
		ot := ObservedTask{ID: t.ID, Title: t.Title, Zone: zone, Types: t.TaskType, Urgency: t.Urgency, CreatedAt: t.CreatedAt}
		o.tasks[t.ID] = ot
		o.mu.Unlock()
		if !seen {
			o.add(Entry{At: t.CreatedAt, Kind: "task", Zone: zone, Text: fmt.Sprintf("task #%d %s (urgency %d, %v)", t.ID, t.Title, t.Urgency, t.TaskType)})
		}
	}
}

func (o *observer) pollVoice(ctx context.Context) {
	var evs []backendapi.VoiceEvent
	if err := o.getJSON(ctx, o.backend+"/voice-events/recent", &evs); err != nil {
		o.mu.Lock()
		o.voiceErr = err.Error()
		o.mu.Unlock()
		return
	}
	for _, v := range evs {
		key := voiceKey(v)
		o.mu.Lock()
		if o.before.voice[key] {
			o.mu.Unlock()
			continue
		}
		_, seen := o.voice[key]
		at := v.CreatedAt
		if at.IsZero() {
			at = o.clock.Now()
		}
		o.voice[key] = ObservedVoice{At: at, Zone: v.Zone, Message: v.Message, Tone: v.Tone}
		o.voiceErr = ""
		o.mu.Unlock()
		if !seen {
			o.add(Entry{At: at, Kind: "speech", Zone: v.Zone, Text: v.Message})
		}
	}
}

func voiceKey(v backendapi.VoiceEvent) string {
	return strconv.FormatInt(v.ID, 10) + "|" + v.Message
}

func (o *observer) pollLLM(ctx context.Context) {
	o.mu.Lock()
	since := o.llmSeq
	o.mu.Unlock()
	var recs []mockllm.Recorded
	if err := o.getJSON(ctx, o.mock+"/control/requests?since_seq="+strconv.FormatInt(since, 10), &recs); err != nil {
		return
	}
	for _, r := range recs {
		o.mu.Lock()
		if r.Seq <= o.llmSeq {
			o.mu.Unlock()
			continue
		}
		o.llmSeq = r.Seq
		r.Request.Messages = nil // prompts are large; the report keeps the answer
		o.llm = append(o.llm, r)
		o.mu.Unlock()
		text := "LLM " + r.Rule
		for _, c := range r.Response.ToolCalls {
			text += " → " + c.Function.Name
		}
		if len(r.Faults) > 0 {
			text += fmt.Sprintf(" (faults %v)", r.Faults)
		}
		o.add(Entry{At: r.At, Kind: "llm", Text: text})
	}
}

// brainEvent is the part of a world-model event the report shows.
type brainEvent struct {
	Seq      uint64    `json:"seq"`
	Zone     string    `json:"zone"`
	Type     string    `json:"type"`
	Severity string    `json:"severity"`
	At       time.Time `json:"at"`
}

func (o *observer) pollEvents(ctx context.Context) {
	var evs []brainEvent
	if err := o.getJSON(ctx, o.brain+"/world/events", &evs); err != nil {
		return
	}
	for _, e := range evs {
		o.mu.Lock()
		seen := o.events[e.Seq]
		o.events[e.Seq] = true
		if !seen {
			o.evList = append(o.evList, ObservedEvent{At: e.At, Zone: e.Zone, Type: e.Type, Severity: e.Severity})
		}
		o.mu.Unlock()
		if !seen {
			o.add(Entry{At: e.At, Kind: "event", Zone: e.Zone, Text: e.Type + " (" + e.Severity + ")"})
		}
	}
}

func (o *observer) pollWorld(ctx context.Context) {
	for _, z := range o.worldZone {
		var doc map[string]any
		err := o.getJSON(ctx, o.brain+"/world/zones/"+url.PathEscape(z), &doc)
		now := o.clock.Now()
		o.mu.Lock()
		if err != nil {
			o.worldE = err.Error()
		} else {
			o.world[z] = append(o.world[z], WorldSample{At: now, Doc: doc})
		}
		o.mu.Unlock()
	}
}

func (o *observer) pollWallet(ctx context.Context) {
	for _, id := range o.walletIDs {
		if o.walletURL == "" {
			o.mu.Lock()
			o.walletE = "no wallet service in this stack (set Options.WalletURL / SOMS_SCENARIO_WALLET_URL)"
			o.mu.Unlock()
			return
		}
		var w struct {
			Balance float64 `json:"balance"`
		}
		err := o.api.Call(ctx, httpx.Request{Method: http.MethodGet, Path: o.walletURL + "/wallets/" + strconv.FormatInt(id, 10),
			Header: http.Header{wallet.ServiceTokenHeader: {o.walletToken}}}, &w)
		now := o.clock.Now()
		o.mu.Lock()
		if err != nil {
			o.walletE = err.Error()
		} else {
			o.wallet[id] = append(o.wallet[id], Sample{At: now, Value: w.Balance})
		}
		o.mu.Unlock()
	}
}

// observations snapshots what was seen for evaluation.
func (o *observer) observations(end time.Time) *Observations {
	o.mu.Lock()
	defer o.mu.Unlock()
	obs := &Observations{Start: o.start, End: end, VoiceErr: o.voiceErr, WalletErr: o.walletE, WorldErr: o.worldE,
		Commands: slices.Clone(o.commands), LLM: slices.Clone(o.llm), Wallet: o.wallet, World: o.world, Events: slices.Clone(o.evList), Lost: o.ack.lost}
	for _, t := range o.tasks {
		obs.Tasks = append(obs.Tasks, t)
	}
	slices.SortFunc(obs.Tasks, func(a, b ObservedTask) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, v := range o.voice {
		obs.Voice = append(obs.Voice, v)
	}
	slices.SortFunc(obs.Voice, func(a, b ObservedVoice) int { return a.At.Compare(b.At) })
	return obs
}

func (o *observer) timeline() []Entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := slices.Clone(o.entries)
	slices.SortStableFunc(out, func(a, b Entry) int { return a.At.Compare(b.At) })
	return out
}
