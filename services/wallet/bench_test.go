package wallet

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	api "github.com/somsgo/soms/internal/wallet"
)

var (
	benchPhase = flag.Duration("phase", 5*time.Second,
		"BenchmarkTransferVsPgbench: how long pgbench and each transfer phase run (go test -bench TransferVsPgbench -args -phase=10s)")
	benchPool = flag.Int("pool", 0,
		"BenchmarkTransferVsPgbench: the wallet's database connections (0: the service's default, max(4, CPUs))")
)

// BenchmarkTransferVsPgbench measures, in one run on the same private
// PostgreSQL, pgbench's TPC-B-like transaction at 64 connections (three
// updates, a select and an insert) and POST /transactions/p2p-transfer end to
// end (HTTP client → router → ledger → commit) at 1, 8 and 64 clients moving
// random amounts between random pairs of 64 people, and prints a table with
// the ratio of the two rates at 64 clients. pgbench runs before and after
// the transfers, and the ratio is to the mean of both, because the machine's
// other load drifts. Rates are counted from what completed and checked
// afterwards: pgbench's count against its history table, transfers against
// the journal, every balance and the fees burned. It runs once whatever b.N
// is; -phase sets each phase's length.
func BenchmarkTransferVsPgbench(b *testing.B) {
	const people = 64
	ctx := context.Background()
	before := pgbench(b, 64, *benchPhase)

	r := DefaultRules()
	r.MinTransferSupplyBPS = 0 // balances here are huge; keep the 10-credit floor
	e := newEnvPool(b, r, *benchPool)
	expect := make([]int64, people+1) // expected balance per person
	for u := int64(1); u <= people; u++ {
		e.reward(b, u, u, 1_000_000_000_000)
		expect[u] = 1_000_000_000_000
	}
	var burned, written int64
	var rows []benchRow
	for _, clients := range []int{1, 8, 64} {
		res := transferPhase(b, e, people, clients, *benchPhase)
		for u, d := range res.delta {
			expect[u] += d
		}
		burned += res.fees
		written += int64(len(res.lat))
		checkLedger(ctx, b, e, expect, burned, written)
		rows = append(rows, res.row(fmt.Sprintf("wallet transfers, %d clients", clients)))
	}
	after := pgbench(b, 64, *benchPhase)
	before.name += " (before)"
	after.name += " (after)"

	var out strings.Builder
	fmt.Fprintf(&out, "\nthe wallet has %d database connections; pgbench has 64\n", e.pool.Config().MaxConns)
	fmt.Fprintf(&out, "%-48s %8s %8s %8s %8s %8s %12s %12s\n", "", "done", "per s", "mean ms", "p50 ms", "p99 ms",
		"client µs/op", "server µs/op")
	for _, r := range append(append([]benchRow{before}, rows...), after) {
		fmt.Fprintf(&out, "%-48s %8d %8.0f %8.2f %8s %8s %12s %12s\n", r.name, r.done, r.rate, r.mean, ms(r.p50), ms(r.p99),
			perOp(r.cpuClient, r.done), perOp(r.cpuServer, r.done))
	}
	fmt.Fprintln(&out, "CPU per operation: client = pgbench, or this process (HTTP clients and the wallet); server = PostgreSQL")
	last := rows[len(rows)-1]
	pgRate := (before.rate + after.rate) / 2
	ratio := last.rate / pgRate
	fmt.Fprintf(&out, "transfers at 64 clients / pgbench at 64 connections (mean %.0f/s): %.2f (goal ≥ 0.5, p99 < 50 ms)\n", pgRate, ratio)
	// Printed rather than logged: the testing package keeps 10 lines of a
	// benchmark's log.
	fmt.Print(out.String())
	b.ReportMetric(pgRate, "pgbench-tps")
	b.ReportMetric(last.rate, "transfers/s")
	b.ReportMetric(float64(last.p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(ratio, "ratio")
}

// benchRow is one line of the table: what completed and how fast.
type benchRow struct {
	name     string
	done     int64
	rate     float64 // completed per second of the phase's wall time
	mean     float64 // ms
	p50, p99 time.Duration
	// CPU spent during the phase; zero when it could not be measured.
	cpuClient, cpuServer time.Duration
}

func perOp(cpu time.Duration, n int64) string {
	if cpu == 0 || n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(cpu.Microseconds())/float64(n))
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000)
}

// phaseResult is what one transfer phase did, as the clients were told.
type phaseResult struct {
	elapsed time.Duration
	cpu     cpuUse
	lat     []time.Duration // one per completed transfer
	delta   []int64         // balance change per person
	fees    int64
}

func (p phaseResult) row(name string) benchRow {
	lat := slices.Clone(p.lat)
	slices.Sort(lat)
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	r := benchRow{name: name, done: int64(len(lat)), rate: float64(len(lat)) / p.elapsed.Seconds(),
		cpuClient: p.cpu.self, cpuServer: p.cpu.postgres}
	if len(lat) > 0 {
		r.mean = float64(sum.Microseconds()) / 1000 / float64(len(lat))
		r.p50, r.p99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return r
}

// transferPhase runs clients goroutines sending transfers back to back for d.
// Any failed transfer fails the benchmark: with these balances none may.
func transferPhase(b *testing.B, e *env, people int64, clients int, d time.Duration) phaseResult {
	b.Helper()
	ctx := context.Background()
	fee := e.ledger.Rules().Fee
	parts := make([]phaseResult, clients)
	var failed atomic.Value
	var wg sync.WaitGroup
	cpu0, cpuOK := cpuNow()
	start := time.Now()
	deadline := start.Add(d)
	for c := range clients {
		wg.Go(func() {
			p := phaseResult{delta: make([]int64, people+1)}
			rng := rand.New(rand.NewPCG(uint64(c), uint64(clients)))
			for time.Now().Before(deadline) {
				from := rng.Int64N(people) + 1
				to := (from+rng.Int64N(people-1))%people + 1
				amount := 10_000 + rng.Int64N(40_000)
				t := time.Now()
				tx, err := e.svc.Transfer(ctx, api.Transfer{FromUserID: from, ToUserID: to, Amount: amount})
				if err == nil && tx.Fee != fee(amount) {
					err = fmt.Errorf("transfer of %d charged a fee of %d, want %d", amount, tx.Fee, fee(amount))
				}
				if err != nil {
					failed.CompareAndSwap(nil, err)
					break
				}
				p.lat = append(p.lat, time.Since(t))
				p.delta[from] -= amount
				p.delta[to] += amount - tx.Fee
				p.fees += tx.Fee
			}
			parts[c] = p
		})
	}
	wg.Wait()
	all := phaseResult{elapsed: time.Since(start), delta: make([]int64, people+1)}
	if cpu1, ok := cpuNow(); ok && cpuOK {
		all.cpu = cpu1.since(cpu0)
	}
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	for _, p := range parts {
		all.lat = append(all.lat, p.lat...)
		for u, d := range p.delta {
			all.delta[u] += d
		}
		all.fees += p.fees
	}
	return all
}

// checkLedger fails the benchmark unless the wallet holds what the clients
// were told: written transfers in the journal, each person's balance, the
// fees in the burn account, and a clean self-check.
func checkLedger(ctx context.Context, b *testing.B, e *env, expect []int64, burned, written int64) {
	b.Helper()
	var n int64
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM wallet.transactions WHERE kind = 'p2p_transfer'`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	if n != written {
		b.Fatalf("journal holds %d transfers, clients were told of %d", n, written)
	}
	for u := 1; u < len(expect); u++ {
		if got := e.balance(b, int64(u)); got != expect[u] {
			b.Fatalf("balance of %d = %d, want %d", u, got, expect[u])
		}
	}
	if got := e.balance(b, api.BurnID); got != burned {
		b.Fatalf("burned %d, the transfers' fees sum to %d", got, burned)
	}
	e.consistent(b)
}

// BenchmarkTaskReward measures POST /transactions/task-reward (each a new
// task) with 8 concurrent clients.
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
