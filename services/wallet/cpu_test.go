package wallet

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuUse is CPU time spent so far by this test process (the HTTP clients
// and the wallet) and by its PostgreSQL server (the postmaster, the backends
// still running and those that exited). Rates on a shared machine move
// with the other load; CPU per operation does not, much.
type cpuUse struct {
	self, postgres time.Duration
	backends       map[int]bool // the server's live processes
}

// ticks per second of /proc/*/stat times (USER_HZ, 100 on Linux).
const clockTicks = 100

func cpuNow() (cpuUse, bool) {
	var u cpuUse
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return u, false
	}
	u.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	procs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(procs) == 0 {
		return u, false
	}
	type stat struct {
		ppid        int
		comm        string
		own, waited int64 // ticks
	}
	all := map[int]stat{}
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // exited meanwhile
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
		f := strings.Fields(s[end+1:]) // f[0] is the state, field 3
		if len(f) < 15 {
			continue
		}
		n := func(i int) int64 { v, _ := strconv.ParseInt(f[i], 10, 64); return v }
		ppid, _ := strconv.Atoi(f[1])
		all[pid] = stat{ppid: ppid, comm: s[open+1 : end], own: n(11) + n(12), waited: n(13) + n(14)}
	}
	self := os.Getpid()
	var ticks int64
	found := false
	u.backends = map[int]bool{}
	for pid, s := range all {
		if s.ppid != self || s.comm != "postgres" {
			continue
		}
		found = true
		ticks += s.own + s.waited
		for cpid, c := range all {
			if c.ppid == pid {
				ticks += c.own
				u.backends[cpid] = true
			}
		}
	}
	u.postgres = time.Duration(ticks) * time.Second / clockTicks
	return u, found
}

func (u cpuUse) since(start cpuUse) cpuUse {
	return cpuUse{self: u.self - start.self, postgres: u.postgres - start.postgres}
}

// cpuAfterClients measures once the server's processes started since start
// (the backends of a client that has exited) are gone: an exited backend's
// time counts only once the server has reaped it.
func cpuAfterClients(start cpuUse) (cpuUse, bool) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		u, ok := cpuNow()
		if !ok {
			return u, false
		}
		extra := false
		for pid := range u.backends {
			extra = extra || !start.backends[pid]
		}
		if !extra || time.Now().After(deadline) {
			return u, true
		}
		time.Sleep(20 * time.Millisecond)
	}
}
