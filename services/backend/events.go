package backend

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Live event types sent over GET /events/stream.
const (
	EventTaskCreated    = "task.created"
	EventTaskUpdated    = "task.updated"
	EventTaskAccepted   = "task.accepted"
	EventTaskCompleted  = "task.completed"
	EventTaskDispatched = "task.dispatched"
	EventTaskReminded   = "task.reminded"
	EventTaskExpired    = "task.expired"
	EventPaymentPaid    = "payment.paid"
	EventSensorUpdated  = "sensor.updated"
	EventDeviceUpdated  = "device.updated"
	EventVoiceCreated   = "voice.created"
)

// Event is one live update: its JSON is marshalled once at publish time.
type Event struct {
	ID   uint64
	Type string
	Data []byte
	// Public, when set, is what subscribers other than Owner, administrators
	// and services receive instead of Data: an event about one person
	// (their payment) tells everyone else only that it happened.
	Public []byte
	Owner  int64
}

// dataFor is what subscriber p may see of ev.
func (ev Event) dataFor(p principal) []byte {
	if ev.Public == nil || p.admin() || (p.User != nil && p.User.ID == ev.Owner) {
		return ev.Data
	}
	return ev.Public
}

// Hub fans live events out to SSE subscribers. A subscriber that falls behind
// by more than its buffer is disconnected (its browser reconnects), so one slow
// client never delays the others or the publisher.
type Hub struct {
	mu   sync.Mutex
	seq  uint64
	subs map[chan Event]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[chan Event]struct{}{}} }

// Publish sends an event to every subscriber without blocking.
func (h *Hub) Publish(typ string, data any) { h.publish(Event{Type: typ, Data: marshal(data)}) }

// PublishPersonal sends an event about person owner: they, administrators
// and services receive data, everyone else public.
func (h *Hub) PublishPersonal(typ string, owner int64, data, public any) {
	h.publish(Event{Type: typ, Data: marshal(data), Public: marshal(public), Owner: owner})
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{}`)
	}
	return b
}

func (h *Hub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	ev.ID = h.seq
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// Subscribe returns a channel of events (closed when the subscriber is dropped
// for being slow) and a cancel function.
func (h *Hub) Subscribe(buffer int) (<-chan Event, func()) {
	ch := make(chan Event, buffer)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// Subscribers counts the connected subscribers.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// keepAlive is wall time on purpose: it keeps proxies from closing an idle
// connection, which has nothing to do with (possibly paused) office time.
const keepAlive = 15 * time.Second

// streamWriteTimeout is how long one write of an event stream may wait for
// a client that does not read (wall time, like keepAlive).
const streamWriteTimeout = 30 * time.Second

// eventStream serves Server-Sent Events. ?types=task,voice limits the stream
// to event types with those prefixes. It is open, as the dashboard's
// anonymous views (the wall kiosk) follow it; an event about one person is
// sent whole only to that person, administrators and services, which a
// client that can set headers proves with Authorization or X-Service-Token
// (a browser's EventSource cannot: it gets the public part).
func (a *API) eventStream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	var prefixes []string
	for p := range strings.SplitSeq(r.URL.Query().Get("types"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			prefixes = append(prefixes, p)
		}
	}
	wanted := func(typ string) bool {
		if len(prefixes) == 0 {
			return true
		}
		for _, p := range prefixes {
			if strings.HasPrefix(typ, p) {
				return true
			}
		}
		return false
	}
	who := principalFrom(r.Context())
	evs, cancel := a.hub.Subscribe(256)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	// The server's write timeout bounds ordinary responses; a stream lives
	// on, so each write gets its own deadline instead: a client that stops
	// reading is dropped, not held.
	rc := http.NewResponseController(w)
	renew := func() { _ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)) }
	renew()
	fmt.Fprint(w, "retry: 3000\n: connected\n\n")
	fl.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			renew()
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		case ev, open := <-evs:
			if !open {
				return // too slow: the client reconnects
			}
			if !wanted(ev.Type) {
				continue
			}
			renew()
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, ev.dataFor(who))
			fl.Flush()
		}
	}
}
