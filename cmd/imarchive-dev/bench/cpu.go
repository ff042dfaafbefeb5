package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuMark is a moment's CPU counters: this process's CPU time and the machine's busy and total ticks.
type cpuMark struct {
	at         time.Time
	self       time.Duration
	wait       time.Duration // this process's threads' time runnable but waiting for a CPU
	busy, all  uint64
	haveSystem bool
}

// runQueueWait sums the run-queue wait of this process's threads (/proc/self/task/*/schedstat, second
// field, ns): how long they were ready to run while every CPU was taken. -1 when unknown.
func runQueueWait() time.Duration {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return -1
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return -1
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return -1
		}
		sum += time.Duration(ns)
	}
	return sum
}

func markCPU() cpuMark {
	m := cpuMark{at: time.Now(), wait: runQueueWait()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		m.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		if len(f) >= 8 && f[0] == "cpu" {
			for i, s := range f[1:] {
				v, _ := strconv.ParseUint(s, 10, 64)
				if i < 8 { // user nice system idle iowait irq softirq steal; guest is inside user
					m.all += v
					if i != 3 && i != 4 {
						m.busy += v
					}
				}
			}
			m.haveSystem = true
		}
	}
	return m
}

// cpuUse is what a measured run cost in CPU: this process (the server, or the producer), the load
// generator's child process, and how busy the whole machine was meanwhile.
type cpuUse struct {
	wall        time.Duration
	self, child time.Duration
	wait        time.Duration // run-queue wait of this process's threads; -1 when unknown
	busy        float64       // 0–1, -1 when unknown
}

func (m cpuMark) since(start cpuMark, child time.Duration) cpuUse {
	u := cpuUse{wall: m.at.Sub(start.at), self: m.self - start.self, child: child, busy: -1, wait: -1}
	if m.wait >= 0 && start.wait >= 0 {
		u.wait = m.wait - start.wait
	}
	if m.haveSystem && start.haveSystem && m.all > start.all {
		u.busy = float64(m.busy-start.busy) / float64(m.all-start.all)
	}
	return u
}

// note says the CPU per operation and the machine's load, for a row's notes. server names this
// process's part ("serve", "producer"); ops is how many operations the run did.
func (u cpuUse) note(server string, ops int) string {
	if ops <= 0 || u.wall <= 0 {
		return ""
	}
	per := func(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/float64(ops)) }
	s := fmt.Sprintf("CPU per op: %s %s (%.2f cores)", server, per(u.self), u.self.Seconds()/u.wall.Seconds())
	if u.child > 0 {
		s += fmt.Sprintf(", generator %s (%.2f cores)", per(u.child), u.child.Seconds()/u.wall.Seconds())
	}
	if u.wait >= 0 {
		s += fmt.Sprintf("; %s threads waited for a CPU %s per op", server, per(u.wait))
	}
	if u.busy >= 0 {
		s += fmt.Sprintf("; machine %.0f%% busy", 100*u.busy)
	}
	return s
}
