package backend

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	tasksCreated   prometheus.Counter
	tasksMerged    *prometheus.CounterVec
	tasksCompleted *prometheus.CounterVec
	payments       *prometheus.CounterVec
	readings       prometheus.Counter
	readingsLost   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, payments *paymentStore) *metrics {
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
	}
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "soms_backend_task_payments_pending", Help: "Task rewards recorded but not yet confirmed by the wallet."},
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := payments.pending(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		})
	reg.MustRegister(m.tasksCreated, m.tasksMerged, m.tasksCompleted, m.payments, m.readings, m.readingsLost, pending)
	return m
}
