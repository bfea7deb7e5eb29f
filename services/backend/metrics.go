package backend

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	tasksCreated   prometheus.Counter
	tasksMerged    *prometheus.CounterVec
	tasksCompleted *prometheus.CounterVec
	payments       *prometheus.CounterVec
	readings       prometheus.Counter
	readingsLost   prometheus.Counter
	// telemetryDropped counts rejected office messages by reason
	// (internal/telemetry).
	telemetryDropped *prometheus.CounterVec
	unknownTopics    *prometheus.CounterVec
	// paymentsPending is refreshed by the payment loop, not by the scrape.
	paymentsPending *lastValue
	pendingErrors   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		tasksCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soms_backend_tasks_created_total", Help: "Tasks created (duplicates merged are not counted)."}),
		tasksMerged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_backend_tasks_deduplicated_total", Help: "Task creations merged into an existing task, by rule (title_location, category)."}, []string{"rule"}),
		tasksCompleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_backend_tasks_completed_total", Help: "Tasks completed, by report status."}, []string{"report_status"}),
		payments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_backend_task_payments_total", Help: "Task reward payment attempts by result (paid, retry, failed)."}, []string{"result"}),
		readings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soms_backend_sensor_readings_total", Help: "Sensor readings stored."}),
		readingsLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soms_backend_sensor_readings_dropped_total", Help: "Sensor readings dropped because the writer fell behind."}),
		telemetryDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_backend_telemetry_dropped_total", Help: "Office messages rejected by the telemetry parser or the device bounds, by reason (docs/telemetry.md)."}, []string{"reason"}),
		unknownTopics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_backend_unknown_topics_total", Help: "MQTT messages on topics no SOMS part interprets, by prefix (office: an unknown office kind; hydro, aqua: the original's demo devices; other)."}, []string{"prefix"}),
	}
	m.paymentsPending = newLastValue(prometheus.NewDesc("soms_backend_task_payments_pending",
		"Task rewards recorded but not yet confirmed by the wallet, as last counted by the payment loop (absent while the count fails).", nil, nil))
	m.pendingErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "soms_backend_payments_pending_count_errors_total", Help: "Failed counts of pending task rewards (the pending gauge is absent until a count succeeds)."})
	reg.MustRegister(m.tasksCreated, m.tasksMerged, m.tasksCompleted, m.payments, m.readings, m.readingsLost, m.telemetryDropped, m.unknownTopics, m.paymentsPending, m.pendingErrors)
	return m
}

// lastValue is a gauge that exports the last value it was given and nothing
// while it has none: a scrape never queries anything, and a value that could
// not be read is absent rather than made up.
type lastValue struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	v    float64
	ok   bool
}

func newLastValue(desc *prometheus.Desc) *lastValue { return &lastValue{desc: desc} }

// Set records a fresh value.
func (l *lastValue) Set(v float64) {
	l.mu.Lock()
	l.v, l.ok = v, true
	l.mu.Unlock()
}

// Forget drops the value: it is no longer known.
func (l *lastValue) Forget() {
	l.mu.Lock()
	l.ok = false
	l.mu.Unlock()
}

func (l *lastValue) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

func (l *lastValue) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	v, ok := l.v, l.ok
	l.mu.Unlock()
	if ok {
		ch <- prometheus.MustNewConstMetric(l.desc, prometheus.GaugeValue, v)
	}
}
