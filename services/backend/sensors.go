package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/somsgo/soms/internal/bus"
	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/internal/topic"
)

// sensorStore keeps telemetry: latest values, a pruned history and devices.
type sensorStore struct{ pool *pgxpool.Pool }

// writeReadings stores a batch: every reading goes to the history, the newest
// per key to sensor_latest.
func (s *sensorStore) writeReadings(ctx context.Context, rs []Reading) error {
	if len(rs) == 0 {
		return nil
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"dashboard", "sensor_readings"},
		[]string{"zone", "device_id", "channel", "value", "at"},
		pgx.CopyFromSlice(len(rs), func(i int) ([]any, error) {
			r := rs[i]
			return []any{r.Zone, r.DeviceID, r.Channel, r.Value, r.At}, nil
		}))
	if err != nil {
		return fmt.Errorf("store readings: %w", err)
	}
	type key struct{ z, d, c string }
	last := map[key]Reading{}
	for _, r := range rs {
		last[key{r.Zone, r.DeviceID, r.Channel}] = r
	}
	var zs, ds, cs []string
	var vs []float64
	var ats []time.Time
	for _, r := range last {
		zs, ds, cs, vs, ats = append(zs, r.Zone), append(ds, r.DeviceID), append(cs, r.Channel), append(vs, r.Value), append(ats, r.At)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO dashboard.sensor_latest (zone, device_id, channel, value, at, first_at)
		SELECT z, d, c, v, t, t FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::timestamptz[]) AS u(z, d, c, v, t)
		ON CONFLICT (zone, device_id, channel) DO UPDATE SET value = EXCLUDED.value, at = EXCLUDED.at
		WHERE EXCLUDED.at >= dashboard.sensor_latest.at`, zs, ds, cs, vs, ats)
	if err != nil {
		return fmt.Errorf("store latest readings: %w", err)
	}
	return nil
}

// seenHeartbeat is one device of a received heartbeat.
type seenHeartbeat struct {
	zone string
	hb   telemetry.Heartbeat
	at   time.Time
}

// writeHeartbeats stores the devices of heartbeats (a hub's children
// included, one row each) in one statement; of a device listed twice the
// last wins.
func (s *sensorStore) writeHeartbeats(ctx context.Context, seen []seenHeartbeat) error {
	if len(seen) == 0 {
		return nil
	}
	index := make(map[string]int, len(seen))
	var rows []seenHeartbeat
	for _, d := range seen {
		if i, ok := index[d.hb.DeviceID]; ok {
			rows[i] = d
			continue
		}
		index[d.hb.DeviceID] = len(rows)
		rows = append(rows, d)
	}
	n := len(rows)
	ids, zones, parents, types, modes := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	labels, states, seenAt := make([]string, n), make([]string, n), make([]time.Time, n)
	battery, uptime := make([]*int, n), make([]*int64, n)
	caps := make([]*string, n) // JSON arrays: PostgreSQL arrays cannot be ragged
	wake := make([]*time.Time, n)
	for i, d := range rows {
		hb := d.hb
		ids[i], zones[i], parents[i], types[i], modes[i] = hb.DeviceID, d.zone, hb.ParentID, hb.DeviceType, hb.PowerMode
		labels[i], states[i], seenAt[i] = hb.Label, hb.Status, d.at
		battery[i], uptime[i] = hb.BatteryPct, hb.UptimeSec
		if hb.Capabilities != nil {
			b, err := json.Marshal(hb.Capabilities)
			if err != nil {
				return fmt.Errorf("store heartbeats: %w", err)
			}
			c := string(b)
			caps[i] = &c
		}
		if hb.NextWakeSec != nil {
			w := d.at.Add(time.Duration(*hb.NextWakeSec) * time.Second)
			wake[i] = &w
		}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO dashboard.devices (device_id, zone, parent_id, device_type, power_mode,
			battery_pct, label, status, uptime_sec, capabilities, next_wake_at, first_seen, last_seen)
		SELECT id, zone, NULLIF(parent, ''), NULLIF(typ, ''), NULLIF(mode, ''), battery, NULLIF(label, ''), NULLIF(status, ''),
			uptime, CASE WHEN caps IS NOT NULL THEN ARRAY(SELECT jsonb_array_elements_text(caps::jsonb)) END, wake, seen, seen
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[],
			$9::bigint[], $10::text[], $11::timestamptz[], $12::timestamptz[])
			AS u(id, zone, parent, typ, mode, battery, label, status, uptime, caps, wake, seen)
		ON CONFLICT (device_id) DO UPDATE SET zone = EXCLUDED.zone,
			parent_id = COALESCE(EXCLUDED.parent_id, devices.parent_id),
			device_type = COALESCE(EXCLUDED.device_type, devices.device_type),
			power_mode = COALESCE(EXCLUDED.power_mode, devices.power_mode),
			battery_pct = COALESCE(EXCLUDED.battery_pct, devices.battery_pct),
			label = COALESCE(EXCLUDED.label, devices.label),
			status = COALESCE(EXCLUDED.status, devices.status),
			uptime_sec = COALESCE(EXCLUDED.uptime_sec, devices.uptime_sec),
			capabilities = COALESCE(EXCLUDED.capabilities, devices.capabilities),
			next_wake_at = EXCLUDED.next_wake_at,
			last_seen = EXCLUDED.last_seen`,
		ids, zones, parents, types, modes, battery, labels, states, uptime, caps, wake, seenAt)
	if err != nil {
		return fmt.Errorf("store %d heartbeat devices: %w", n, err)
	}
	return nil
}

func (s *sensorStore) prune(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM dashboard.sensor_readings WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune readings: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Ids seen for less than brieflySeen (first to last message) are forgotten
// quietTTL after they go quiet, as the brain's registry does
// (docs/telemetry.md): a forged flood does not hold the device bound for the
// whole retention.
const (
	brieflySeen = 10 * time.Minute
	quietTTL    = time.Hour
)

// pruneDevices deletes the latest values and devices unseen since
// now−retention, and those of briefly seen ids quiet for quietTTL.
func (s *sensorStore) pruneDevices(ctx context.Context, now time.Time, retention time.Duration) (int64, error) {
	old, quiet := now.Add(-retention), now.Add(-quietTTL)
	latest, err := s.pool.Exec(ctx, `DELETE FROM dashboard.sensor_latest
		WHERE at < $1 OR (at < $2 AND first_at > at - $3::interval)`, old, quiet, brieflySeen)
	if err != nil {
		return 0, fmt.Errorf("prune latest values: %w", err)
	}
	devices, err := s.pool.Exec(ctx, `DELETE FROM dashboard.devices
		WHERE last_seen < $1 OR (last_seen < $2 AND first_seen > last_seen - $3::interval)`, old, quiet, brieflySeen)
	if err != nil {
		return 0, fmt.Errorf("prune devices: %w", err)
	}
	return latest.RowsAffected() + devices.RowsAffected(), nil
}

// telemetryItem is one received message waiting for the writer.
type telemetryItem struct {
	p  parsed
	at time.Time
}

// ingestBuffer bounds telemetry waiting for the database; beyond it readings
// are dropped (and counted) rather than stalling the MQTT client.
const ingestBuffer = 8192

// Subscribe loads the device index and starts receiving office/# telemetry on
// b. The handler only parses, admits and queues; IngestLoop writes.
func (a *API) Subscribe(ctx context.Context, b *bus.Client) error {
	if err := a.devices.load(ctx, a.sensors.pool); err != nil {
		return err
	}
	// The original's devices also publish outside office/ (hydro/, aqua/):
	// not stored, but counted and logged, never silently lost.
	for _, root := range topic.OriginalRoots {
		if err := b.Subscribe(ctx, root+"/#", 0, func(m bus.Message) { a.unknownTopic(m.Topic) }); err != nil {
			return err
		}
	}
	return b.Subscribe(ctx, topic.OfficeAll, 0, func(m bus.Message) { a.Ingest(m.Topic, m.Payload) })
}

// unknownTopic counts (and now and then logs) a message on a topic no SOMS
// part interprets; it reports whether t is one.
func (a *API) unknownTopic(t string) bool {
	label := topic.Unknown(t)
	if label == "" {
		return false
	}
	a.metrics.unknownTopics.WithLabelValues(label).Inc()
	if ok, held := a.unknownLog.Allow(label); ok {
		a.log.Warn("message on a topic no SOMS part interprets", "topic", t, "prefix", label, "more_since_last_log", held)
	}
	return true
}

// Ingest queues one office/# message for storage. A rejected message is
// counted and logged (rate-limited) under its one reason.
func (a *API) Ingest(t string, payload []byte) {
	if a.unknownTopic(t) {
		return
	}
	now := a.clock.Now()
	p, err := parseTelemetry(t, payload, now)
	if err == nil && (len(p.Readings) > 0 || p.Heartbeat != nil) {
		err = a.devices.admit(p)
	}
	if err != nil {
		a.drops.Drop(t, err)
		return
	}
	if len(p.Readings) == 0 && p.Heartbeat == nil {
		return
	}
	select {
	case a.ingest <- telemetryItem{p: p, at: now}:
	default:
		a.metrics.readingsLost.Add(float64(max(len(p.Readings), 1)))
	}
}

// IngestLoop writes queued telemetry in batches until ctx is done.
func (a *API) IngestLoop(ctx context.Context) error {
	for {
		var first telemetryItem
		select {
		case <-ctx.Done():
			return nil
		case first = <-a.ingest:
		}
		items := []telemetryItem{first}
	drain:
		for len(items) < 1000 {
			select {
			case it := <-a.ingest:
				items = append(items, it)
			default:
				break drain
			}
		}
		a.writeTelemetry(ctx, items)
	}
}

// writeTelemetry stores a batch: every heartbeat device in one statement,
// every reading in one COPY and one upsert of the latest values.
func (a *API) writeTelemetry(ctx context.Context, items []telemetryItem) {
	var rs []Reading
	var hbs []seenHeartbeat
	for _, it := range items {
		rs = append(rs, it.p.Readings...)
		if hb := it.p.Heartbeat; hb != nil {
			for _, d := range hb.Devices() {
				hbs = append(hbs, seenHeartbeat{zone: it.p.Zone, hb: d, at: it.at})
			}
		}
	}
	if err := a.sensors.writeHeartbeats(ctx, hbs); err != nil {
		if ctx.Err() == nil {
			a.log.ErrorContext(ctx, "store heartbeats", "devices", len(hbs), "err", err)
		}
	} else {
		for _, it := range items {
			if hb := it.p.Heartbeat; hb != nil {
				a.hub.Publish(EventDeviceUpdated, map[string]any{"device_id": hb.DeviceID, "zone": it.p.Zone, "last_seen": it.at})
			}
		}
	}
	if err := a.sensors.writeReadings(ctx, rs); err != nil {
		if ctx.Err() == nil {
			a.log.ErrorContext(ctx, "store readings", "n", len(rs), "err", err)
		}
		a.metrics.readingsLost.Add(float64(len(rs)))
		return
	}
	a.metrics.readings.Add(float64(len(rs)))
	for _, r := range rs {
		a.hub.Publish(EventSensorUpdated, r)
	}
}

// PruneLoop, every interval of clock time, deletes history older than
// retention and expired devices (pruneDevices), then reloads the device index
// so that the room they held is free again.
func (a *API) PruneLoop(retention, interval time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		t := a.clock.NewTicker(interval)
		defer t.Stop()
		for {
			if err := a.pruneOnce(ctx, retention); err != nil && ctx.Err() == nil {
				a.log.ErrorContext(ctx, "prune sensor history and devices", "err", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C():
			}
		}
	}
}

func (a *API) pruneOnce(ctx context.Context, retention time.Duration) error {
	now := a.clock.Now()
	n, err := a.sensors.prune(ctx, now.Add(-retention))
	if err != nil {
		return err
	}
	d, err := a.sensors.pruneDevices(ctx, now, a.deviceRetention)
	if err != nil {
		return err
	}
	if n > 0 || d > 0 {
		a.log.DebugContext(ctx, "pruned sensor history and devices", "readings", n, "device_rows", d)
	}
	return a.devices.load(ctx, a.sensors.pool)
}

func (a *API) sensorRoutes(r chi.Router) {
	r.Get("/sensors/latest", a.sensorLatest)
	r.Get("/sensors/time-series", a.sensorSeries)
	r.Get("/sensors/zones", a.sensorZones)
	r.Get("/devices/status", a.deviceStatus)
}

func (a *API) sensorLatest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rows, err := a.sensors.pool.Query(r.Context(), `SELECT zone, device_id, channel, value, at FROM dashboard.sensor_latest
		WHERE ($1 = '' OR zone = $1) AND ($2 = '' OR channel = $2) ORDER BY zone, device_id, channel`, q.Get("zone"), q.Get("channel"))
	a.writeRows(w, "latest readings", rows, err)
}

func (a *API) writeRows(w http.ResponseWriter, what string, rows pgx.Rows, err error) {
	var rs []Reading
	if err == nil {
		rs, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Reading])
	}
	if err != nil {
		a.log.Error(what, "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not read "+what)
		return
	}
	if rs == nil {
		rs = []Reading{}
	}
	httpx.WriteJSON(w, http.StatusOK, rs)
}

// SeriesPoint is one point of GET /sensors/time-series. Timestamp and Avg
// are the original SOMS's names of At and Value.
type SeriesPoint struct {
	At        time.Time `json:"at"`
	Value     float64   `json:"value"`
	Min       float64   `json:"min"`
	Max       float64   `json:"max"`
	Count     int       `json:"count"`
	Zone      string    `json:"zone"`
	Channel   string    `json:"channel"`
	Timestamp time.Time `json:"timestamp"`
	Avg       float64   `json:"avg"`
}

// Series is the answer of GET /sensors/time-series.
type Series struct {
	Zone          *string       `json:"zone"`
	Channel       *string       `json:"channel"`
	Window        string        `json:"window"`
	Since         time.Time     `json:"since"`
	Until         time.Time     `json:"until"`
	BucketSeconds int           `json:"bucket_seconds"`
	Points        []SeriesPoint `json:"points"`
}

const maxSeriesPoints = 5000

// Windows of the original SOMS: its default range and point limit each.
var seriesWindows = map[string]struct {
	bucket, span time.Duration
}{
	"raw": {0, time.Hour},
	"1h":  {time.Hour, 7 * 24 * time.Hour},
	"1d":  {24 * time.Hour, 30 * 24 * time.Hour},
}

// originalLimit is the original's default number of points for a window.
const originalLimit = 168

// sensorSeries averages readings into buckets per zone and channel (over all
// their devices, or one with device_id). Without window: since/until are RFC
// 3339 times or durations back from now ("2h"), bucket defaults to what keeps
// the series under 500 points. With the original's window=raw|1h|1d: raw
// readings (at most the last hour, as the original), hourly or daily buckets
// aligned to UTC, default ranges 1 h, 7 d and 30 d, at most limit points
// (default 168). start/end are the original's names of since/until.
func (a *API) sensorSeries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := a.clock.Now()
	bad := map[string]string{}
	s := Series{Window: q.Get("window"), Until: now}
	if z := q.Get("zone"); z != "" {
		s.Zone = &z
	}
	if c := q.Get("channel"); c != "" {
		s.Channel = &c
	}
	win, isWindow := seriesWindows[s.Window]
	if s.Window != "" && !isWindow {
		bad["window"] = "must be raw, 1h or 1d"
	}
	span := time.Hour
	if isWindow {
		span = win.span
	}
	parseTime := func(dst *time.Time, names ...string) (set bool) {
		for _, name := range names {
			v := q.Get(name)
			if v == "" {
				continue
			}
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				*dst = t
			} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
				*dst = now.Add(-d)
			} else {
				bad[name] = "an RFC 3339 time or a duration back from now such as 2h"
			}
			return true
		}
		return false
	}
	parseTime(&s.Until, "until", "end")
	if !parseTime(&s.Since, "since", "start") {
		s.Since = s.Until.Add(-span)
	}
	if s.Window == "raw" && s.Until.Sub(s.Since) > time.Hour {
		s.Since = s.Until.Add(-time.Hour) // the original caps raw readings at one hour
	}
	if !s.Since.Before(s.Until) && bad["since"] == "" && bad["start"] == "" {
		bad["since"] = "must be before until"
	}
	limit := maxSeriesPoints
	if isWindow {
		limit = originalLimit
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSeriesPoints {
			bad["limit"] = fmt.Sprintf("an integer between 1 and %d", maxSeriesPoints)
		}
		limit = n
	}
	bucket := max(time.Second, (s.Until.Sub(s.Since) / 500).Round(time.Second))
	if isWindow {
		bucket = win.bucket
	}
	if v := q.Get("bucket"); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case isWindow:
			bad["bucket"] = "give window or bucket, not both"
		case err != nil || d < time.Second:
			bad["bucket"] = "a duration of at least 1s, such as 5m"
		case s.Until.Sub(s.Since)/d > maxSeriesPoints:
			bad["bucket"] = fmt.Sprintf("too small: the range would have more than %d points", maxSeriesPoints)
		default:
			bucket = d
		}
	}
	if len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	if s.Window == "" {
		s.Window = bucket.String()
	}
	var err error
	s.Points, err = a.sensors.series(r.Context(), s, q.Get("device_id"), bucket, isWindow, limit)
	if err != nil {
		a.log.ErrorContext(r.Context(), "time series", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not read the time series")
		return
	}
	if s.Window != "raw" {
		s.BucketSeconds = int(bucket / time.Second)
	}
	httpx.WriteJSON(w, http.StatusOK, s)
}

// series reads the points of s: raw readings when s.Window is raw, else
// buckets of the given size (aligned to UTC when utc, to s.Since otherwise).
func (st *sensorStore) series(ctx context.Context, s Series, device string, bucket time.Duration, utc bool, limit int) ([]SeriesPoint, error) {
	args := []any{s.Zone, s.Channel, device, s.Since, s.Until, limit}
	const where = `($1::text IS NULL OR zone = $1) AND ($2::text IS NULL OR channel = $2) AND ($3 = '' OR device_id = $3)
		AND at >= $4 AND at <= $5`
	var sql string
	if s.Window == "raw" {
		sql = `SELECT at, value, value, value, 1, zone, channel FROM dashboard.sensor_readings WHERE ` + where + `
			ORDER BY at, id LIMIT $6`
	} else {
		origin := "$4::timestamptz"
		if utc {
			origin = "'2000-01-01T00:00:00Z'::timestamptz"
		}
		args = append(args, bucket)
		sql = `SELECT date_bin($7::interval, at, ` + origin + `) AS b, avg(value), min(value), max(value), count(*)::int, zone, channel
			FROM dashboard.sensor_readings WHERE ` + where + `
			GROUP BY b, zone, channel ORDER BY b, zone, channel LIMIT $6`
	}
	rows, err := st.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("time series: %w", err)
	}
	defer rows.Close()
	out := []SeriesPoint{}
	for rows.Next() {
		var p SeriesPoint
		if err := rows.Scan(&p.At, &p.Value, &p.Min, &p.Max, &p.Count, &p.Zone, &p.Channel); err != nil {
			return nil, fmt.Errorf("time series: %w", err)
		}
		p.Timestamp, p.Avg = p.At, p.Value
		out = append(out, p)
	}
	return out, rows.Err()
}

// ZoneSummary is one zone in GET /sensors/zones: each channel's mean over the
// zone's devices' latest values.
type ZoneSummary struct {
	Zone        string             `json:"zone"`
	Channels    map[string]float64 `json:"channels"`
	PersonCount *float64           `json:"person_count"`
	Devices     int                `json:"devices"`
	LastUpdate  time.Time          `json:"last_update"`
}

func (a *API) sensorZones(w http.ResponseWriter, r *http.Request) {
	rows, err := a.sensors.pool.Query(r.Context(), `SELECT zone, channel, avg(value), max(at),
		count(DISTINCT device_id) FILTER (WHERE device_id <> 'occupancy')
		FROM dashboard.sensor_latest GROUP BY zone, channel ORDER BY zone, channel`)
	if err != nil {
		a.log.ErrorContext(r.Context(), "zones", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not read zones")
		return
	}
	defer rows.Close()
	zones := []ZoneSummary{}
	for rows.Next() {
		var (
			zone, channel string
			v             float64
			at            time.Time
			devices       int
		)
		if err := rows.Scan(&zone, &channel, &v, &at, &devices); err != nil {
			a.log.ErrorContext(r.Context(), "zones", "err", err)
			httpx.Error(w, http.StatusInternalServerError, "could not read zones")
			return
		}
		if len(zones) == 0 || zones[len(zones)-1].Zone != zone {
			zones = append(zones, ZoneSummary{Zone: zone, Channels: map[string]float64{}})
		}
		z := &zones[len(zones)-1]
		if channel == "person_count" {
			z.PersonCount = &v
		} else {
			z.Channels[channel] = v
		}
		z.Devices = max(z.Devices, devices)
		if at.After(z.LastUpdate) {
			z.LastUpdate = at
		}
	}
	if err := rows.Err(); err != nil {
		a.log.ErrorContext(r.Context(), "zones", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not read zones")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, zones)
}

// Device states, as the brain's registry derives them from heartbeats.
const (
	onlineWithin = 120 * time.Second
	staleWithin  = 900 * time.Second
)

// DeviceStatus is one device in GET /devices/status.
type DeviceStatus struct {
	DeviceID      string     `json:"device_id"`
	Zone          string     `json:"zone"`
	ParentID      *string    `json:"parent_id"`
	DeviceType    *string    `json:"device_type"`
	PowerMode     *string    `json:"power_mode"`
	BatteryPct    *int       `json:"battery_pct"`
	Label         *string    `json:"label"`
	ReportedState *string    `json:"reported_status"`
	UptimeSec     *int64     `json:"uptime_sec"`
	Capabilities  []string   `json:"capabilities"`
	NextWakeAt    *time.Time `json:"next_wake_at"`
	FirstSeen     time.Time  `json:"first_seen"`
	LastSeen      time.Time  `json:"last_seen"`
	State         string     `json:"state"` // online, stale, offline or sleeping
	SecondsSince  float64    `json:"seconds_since_seen"`
}

// DevicesStatus is the answer of GET /devices/status.
type DevicesStatus struct {
	Devices []DeviceStatus `json:"devices"`
	Summary map[string]int `json:"summary"`
}

func deviceState(d DeviceStatus, now time.Time) string {
	elapsed := now.Sub(d.LastSeen)
	sleepy := d.PowerMode != nil && (*d.PowerMode == "DEEP_SLEEP" || *d.PowerMode == "ULTRA_LOW")
	switch {
	case sleepy && d.NextWakeAt != nil && elapsed < staleWithin:
		return "sleeping"
	case elapsed < onlineWithin:
		return "online"
	case elapsed < staleWithin:
		return "stale"
	}
	return "offline"
}

func (a *API) deviceStatus(w http.ResponseWriter, r *http.Request) {
	zone := r.URL.Query().Get("zone")
	rows, err := a.sensors.pool.Query(r.Context(), `SELECT device_id, zone, parent_id, device_type, power_mode, battery_pct,
		label, status, uptime_sec, capabilities, next_wake_at, first_seen, last_seen, '' AS state, 0::float8 AS since
		FROM dashboard.devices WHERE ($1 = '' OR zone = $1) ORDER BY device_id`, zone)
	var ds []DeviceStatus
	if err == nil {
		ds, err = pgx.CollectRows(rows, pgx.RowToStructByPos[DeviceStatus])
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		a.log.ErrorContext(r.Context(), "device status", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not read devices")
		return
	}
	now := a.clock.Now()
	out := DevicesStatus{Devices: []DeviceStatus{}, Summary: map[string]int{"online": 0, "stale": 0, "offline": 0, "sleeping": 0}}
	for _, d := range ds {
		d.State = deviceState(d, now)
		d.SecondsSince = math.Round(now.Sub(d.LastSeen).Seconds())
		out.Summary[d.State]++
		out.Devices = append(out.Devices, d)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}
