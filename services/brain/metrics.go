package brain

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	dropped     *prometheus.CounterVec
	cycles      *prometheus.CounterVec
	llmTime     prometheus.Histogram
	toolCalls   *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	guarded     *prometheus.CounterVec
	mcp         *prometheus.CounterVec
	tasks       *prometheus.CounterVec
	ruleActions *prometheus.CounterVec
	fallbacks   prometheus.Counter
	reminders   prometheus.Counter
	breaker     prometheus.Gauge
	breakerTo   *prometheus.CounterVec
	unknown     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_ingest_dropped_total", Help: "MQTT messages rejected by the world model, registry or MCP client, by reason.",
		}, []string{"reason"}),
		cycles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_cycles_total", Help: "Decision cycles by outcome.",
		}, []string{"result"}),
		llmTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "soms_brain_llm_request_seconds", Help: "Latency of LLM completion requests (wall time).",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10),
		}),
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_tool_calls_total", Help: "Executed tool calls by tool and outcome.",
		}, []string{"tool", "result"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_sanitizer_rejections_total", Help: "Tool calls the safety sanitizer rejected, by tool.",
		}, []string{"tool"}),
		guarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_guard_skips_total", Help: "Proposed tool calls skipped by the duplicate guards, by tool.",
		}, []string{"tool"}),
		mcp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_mcp_calls_total", Help: "Device tool calls by outcome (ok, queued, error, timeout).",
		}, []string{"outcome"}),
		tasks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_tasks_created_total", Help: "Tasks created, by whether they were dispatched or queued.",
		}, []string{"state"}),
		ruleActions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_rule_actions_total", Help: "Rule-engine actions by rule and success.",
		}, []string{"rule", "success"}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soms_brain_llm_fallbacks_total", Help: "Cycles decided by the rule engine because the LLM failed.",
		}),
		reminders: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soms_brain_reminders_total", Help: "Task reminders sent.",
		}),
		breaker: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "soms_brain_llm_breaker_state", Help: "LLM circuit breaker: 0 closed, 1 half-open (probing), 2 open (the rule engine decides).",
		}),
		breakerTo: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_llm_breaker_transitions_total", Help: "LLM circuit breaker transitions, by the state entered.",
		}, []string{"to"}),
		unknown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soms_brain_unknown_topics_total", Help: "MQTT messages on topics the brain does not interpret, by prefix (office: an unknown office kind; hydro, aqua: the original's demo devices; other).",
		}, []string{"prefix"}),
	}
	reg.MustRegister(m.unknown, m.dropped, m.cycles, m.llmTime, m.toolCalls, m.rejected, m.guarded, m.mcp, m.tasks, m.ruleActions, m.fallbacks, m.reminders,
		m.breaker, m.breakerTo)
	return m
}
