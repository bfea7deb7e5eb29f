package wallet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	api "github.com/somsgo/soms/internal/wallet"
)

// BenchmarkTransfer measures POST /transactions/p2p-transfer end to end
// (client → HTTP → ledger → PostgreSQL commit) with 1, 8 and 64 concurrent
// clients moving 10 credits between random pairs of 64 people. Every
// transfer also takes the burn account's row lock for its fee, so this is
// the ledger's most contended write. Reported: transfers/s and the 99th
// percentile latency.
func BenchmarkTransfer(b *testing.B) {
	const people = 64
	for _, clients := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			r := DefaultRules()
			r.MinTransferSupplyBPS = 0 // balances here are huge; keep the 10-credit floor
			e := newEnvRules(b, r)
			ctx := context.Background()
			for u := int64(1); u <= people; u++ {
				e.reward(b, u, u, 1_000_000_000_000)
			}
			benchConcurrent(b, clients, func(rng *rand.Rand) error {
				from := rng.Int64N(people) + 1
				to := (from+rng.Int64N(people-1))%people + 1
				_, err := e.svc.Transfer(ctx, api.Transfer{FromUserID: from, ToUserID: to, Amount: 10_000})
				return err
			}, "transfers/s")
			b.StopTimer()
			e.consistent(b)
		})
	}
}

// BenchmarkTaskReward measures POST /transactions/task-reward (each a new
// task; all share the issuer's row lock) with 8 concurrent clients.
func BenchmarkTaskReward(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	var task atomic.Int64
	benchConcurrent(b, 8, func(rng *rand.Rand) error {
		id := task.Add(1)
		_, err := e.svc.PayTaskReward(ctx, api.TaskReward{UserID: rng.Int64N(64) + 1, TaskID: id, Amount: 50_000})
		return err
	}, "rewards/s")
}

// benchConcurrent runs b.N calls of op spread over clients goroutines and
// reports throughput (unit) and p99 latency in milliseconds.
func benchConcurrent(b *testing.B, clients int, op func(*rand.Rand) error, unit string) {
	b.Helper()
	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			for next.Add(1) <= int64(b.N) {
				t := time.Now()
				if err := op(rng); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
				lat[c] = append(lat[c], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	p99 := all[min(len(all)-1, len(all)*99/100)]
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), unit)
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
}
