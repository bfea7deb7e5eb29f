package brain

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/somsgo/soms/internal/llm"
	"github.com/somsgo/soms/sim/mockllm"
)

// timedLLM measures the time spent waiting for the LLM so the benchmark can
// report the brain's own latency without it.
type timedLLM struct {
	inner chatter
	spent atomic.Int64
}

func (t *timedLLM) Chat(ctx context.Context, m []llm.Message, tools []llm.Tool) (llm.Message, error) {
	start := time.Now()
	defer func() { t.spent.Add(int64(time.Since(start))) }()
	return t.inner.Chat(ctx, m, tools)
}

// BenchmarkEventToTask measures one CO2 event to the task stored by the
// backend: ingest, event detection, prompt, ReAct with the real mock LLM over
// HTTP, guards, sanitizer and the POST /tasks/ to the real backend on
// PostgreSQL. ms/op-excl-llm subtracts the LLM round trips.
func BenchmarkEventToTask(b *testing.B) {
	r := newRig(b, rigOpts{})
	r.setRules(b, []mockllm.Rule{{
		Name: "co2", Match: `\[(?P<zone>z[0-9]+)\][^\n]*CO2[^\n]*換気`, Tool: "create_task",
		Arguments: map[string]any{"title": "{{zone}}の換気", "description": "窓を開けてください", "zone": "{{zone}}", "task_types": "environment"},
	}})
	tl := &timedLLM{inner: r.b.llm}
	r.b.llm = tl
	ctx := context.Background()
	var excl []time.Duration
	b.ResetTimer()
	for i := range b.N {
		zone := fmt.Sprintf("z%d", i)
		r.clock.Advance(10 * time.Minute) // stay under 10 tasks/hour; older tasks expire
		before := tl.spent.Load()
		start := time.Now()
		r.ingest(b, "office/"+zone+"/occupancy", `{"person_count":2}`)
		r.ingest(b, "office/"+zone+"/sensor/env/co2", `{"value":1400}`)
		if err := r.b.cycle(ctx); err != nil {
			b.Fatal(err)
		}
		excl = append(excl, time.Since(start)-time.Duration(tl.spent.Load()-before))
	}
	b.StopTimer()
	if n := len(r.tasks(b)); n < min(b.N, 6) {
		b.Fatalf("only %d tasks for %d events", n, b.N)
	}
	sort.Slice(excl, func(i, j int) bool { return excl[i] < excl[j] })
	var sum time.Duration
	for _, d := range excl {
		sum += d
	}
	b.ReportMetric(float64(sum.Microseconds())/float64(len(excl))/1000, "ms/op-excl-llm")
	b.ReportMetric(float64(excl[len(excl)*99/100].Microseconds())/1000, "p99-ms-excl-llm")
}
