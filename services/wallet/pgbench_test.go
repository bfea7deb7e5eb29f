package wallet

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/testenv"
)

var (
	pgbenchDone = regexp.MustCompile(`number of transactions actually processed: (\d+)`)
	pgbenchTPS  = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	pgbenchLat  = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
)

// pgbench runs pgbench's TPC-B-like transaction (scale 1, the default
// `pgbench -i`) with conns connections for d on a fresh database of the
// shared test server, and checks its count against the rows it inserted.
func pgbench(b *testing.B, conns int, d time.Duration) benchRow {
	b.Helper()
	bin, err := localinfra.PostgresTool("pgbench")
	if err != nil {
		b.Fatal(err)
	}
	url := testenv.Postgres(b)
	ctx := context.Background()
	if out, err := exec.CommandContext(ctx, bin, "-i", "-q", url).CombinedOutput(); err != nil {
		b.Fatalf("pgbench -i: %v\n%s", err, out)
	}
	secs := strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
	cpu0, cpuOK := cpuNow()
	cmd := exec.CommandContext(ctx, bin, "-c", strconv.Itoa(conns), "-j", "2", "-T", secs, url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	cpu1, ok := cpuAfterClients(cpu0)
	var client, server time.Duration
	if ru, isRusage := cmd.ProcessState.SysUsage().(*syscall.Rusage); isRusage && ok && cpuOK {
		client = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		server = cpu1.since(cpu0).postgres
	}
	field := func(re *regexp.Regexp) float64 {
		m := re.FindSubmatch(out)
		if m == nil {
			b.Fatalf("pgbench output lacks %s:\n%s", re, out)
		}
		v, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			b.Fatal(err)
		}
		return v
	}
	done := int64(field(pgbenchDone))
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pgbench_history`).Scan(&rows); err != nil {
		b.Fatal(err)
	}
	if rows != done {
		b.Fatalf("pgbench reports %d transactions, its history table holds %d", done, rows)
	}
	return benchRow{name: "pgbench TPC-B-like, " + strconv.Itoa(conns) + " connections", done: done,
		rate: field(pgbenchTPS), mean: field(pgbenchLat), cpuClient: client, cpuServer: server}
}
