package wallet

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	transactions *prometheus.CounterVec // kind
	amount       *prometheus.CounterVec // kind
	duplicates   *prometheus.CounterVec // kind
	failures     *prometheus.CounterVec // kind, reason
	demurrage    *prometheus.CounterVec // result
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		transactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_wallet_transactions_total", Help: "Journal transactions written, by kind."}, []string{"kind"}),
		amount: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_wallet_amount_milli_total", Help: "Milli-units moved by written transactions, by kind."}, []string{"kind"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_wallet_duplicates_total", Help: "Writes answered from an earlier transaction with the same idempotency key, by kind."}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_wallet_failures_total", Help: "Refused or failed writes by kind and reason (invalid, unauthorized, not_found, insufficient, conflict, canceled, error), and refused reads (kind read, reason unauthorized)."},
			[]string{"kind", "reason"}),
		demurrage: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_wallet_demurrage_runs_total", Help: "Demurrage period runs, by result (charged, duplicate, error)."}, []string{"result"}),
	}
	reg.MustRegister(m.transactions, m.amount, m.duplicates, m.failures, m.demurrage)
	return m
}
