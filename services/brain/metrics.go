package brain

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	dropped   *prometheus.CounterVec
	cycles    *prometheus.CounterVec
	llmTime   prometheus.Histogram
	toolCalls *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_ingest_dropped_total", Help: "MQTT messages the world model rejected, by reason.",
		}, []string{"reason"}),
		cycles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_cycles_total", Help: "Cognitive cycles by outcome.",
		}, []string{"result"}),
		llmTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "soms_brain_llm_request_seconds", Help: "Latency of LLM completion requests (wall time).",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10),
		}),
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_tool_calls_total", Help: "Tool calls proposed by the LLM, by tool and outcome.",
		}, []string{"tool", "result"}),
	}
	reg.MustRegister(m.dropped, m.cycles, m.llmTime, m.toolCalls)
	return m
}
