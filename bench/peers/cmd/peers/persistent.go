package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/bench/peers"
)

// shape is one way of loading a persistent server: connections × calls in
// flight on each.
type shape struct{ conns, pipeline int }

var shapes = []shape{{1, 64}, {64, 1}}

// run1 is one measured run with the CPU each side used.
type run1 struct {
	rep                     bench.Report
	serverCPU, generatorCPU float64 // seconds
}

// persistent serves each persistent server in turn, pinned, and loads it
// with jetrpc bench in both shapes; the bare fasthttp HTTP handler, loaded
// with -c 64 as in the HTTP table, is the ceiling of each case.
func (l loopback) persistent(ctx context.Context, log io.Writer) (string, error) {
	if err := l.preflight(); err != nil {
		return "", err
	}
	type key struct{ c, server string }
	results := map[key][]run1{}
	for round := 1; round <= l.rounds; round++ {
		for _, c := range peers.Cases {
			bare := peers.Servers[0]
			body := bare.Body(c)
			file, err := os.CreateTemp("", "body")
			if err != nil {
				return "", err
			}
			_, _ = file.Write(body)
			file.Close()
			r, err := l.measure(ctx, []string{"serve", "-server", bare.Name, "-case", string(c), "-addr", l.addr},
				[]string{"-url", "http://" + l.addr + "/json-rpc", "-body", file.Name(), "-c", "64"})
			os.Remove(file.Name())
			if err != nil {
				return "", fmt.Errorf("bare fasthttp, %s: %w", c, err)
			}
			results[key{string(c), "bare"}] = append(results[key{string(c), "bare"}], r)
			fmt.Fprintf(log, "round %d  %-14s %-28s %9.0f req/s  p99 %.3fms  server %.2f µs/call  generator %.2f µs/call\n",
				round, c, "bare fasthttp (HTTP, 64 conns)", r.rep.RPS, ms(r.rep.LatencyUS.P99), perCall(r.serverCPU, r.rep), perCall(r.generatorCPU, r.rep))
			for _, s := range peers.PersistentServers {
				method, params, batch, ok := s.Call(c)
				if !ok {
					continue
				}
				for _, sh := range shapes {
					args := []string{"-url", s.URL(l.addr), "-method", method, "-batch", strconv.Itoa(batch),
						"-c", strconv.Itoa(sh.conns), "-pipeline", strconv.Itoa(sh.pipeline)}
					if params != "" {
						args = append(args, "-params", params)
					}
					r, err := l.measure(ctx, []string{"serve", "-server", s.Name, "-transport", s.Transport, "-addr", l.addr}, args)
					if err != nil {
						return "", fmt.Errorf("%s (%s), %s, %d×%d: %w", s.Name, s.Transport, c, sh.conns, sh.pipeline, err)
					}
					k := key{string(c), fmt.Sprintf("%s|%s|%d|%d", s.Name, s.Transport, sh.conns, sh.pipeline)}
					results[k] = append(results[k], r)
					fmt.Fprintf(log, "round %d  %-14s %-28s %9.0f req/s  p99 %.3fms  server %.2f µs/call  generator %.2f µs/call\n",
						round, c, fmt.Sprintf("%s %s %d×%d", s.Name, s.Transport, sh.conns, sh.pipeline), r.rep.RPS,
						ms(r.rep.LatencyUS.P99), perCall(r.serverCPU, r.rep), perCall(r.generatorCPU, r.rep))
				}
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s with `make peers-persistent`: each server alone on CPU %s with GOMAXPROCS=1, "+
		"loaded over 127.0.0.1 by `jetrpc bench -url ws://…|tcp://… -c C -pipeline P -warmup %s -duration %s` on CPU %s with GOMAXPROCS=1, "+
		"every answer checked by id; the mean of %d rounds. CPU per call is each process's user+system time over the calls answered. "+
		"÷ HTTP is the ratio to the bare fasthttp HTTP handler loaded with 64 connections in the same round.\n\n",
		time.Now().UTC().Format("2006-01-02"), machine(), l.serverCPU, l.warmup, l.duration, l.loadCPU, l.rounds)
	b.WriteString("| case | server | transport | C×P | req/s | p50 | p99 | server µs/call | generator µs/call | ÷ HTTP |\n")
	b.WriteString("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	mean := func(rs []run1) (rps, p50, p99, scpu, gcpu float64) {
		for _, r := range rs {
			rps += r.rep.RPS / float64(len(rs))
			p50 += ms(r.rep.LatencyUS.P50) / float64(len(rs))
			p99 += ms(r.rep.LatencyUS.P99) / float64(len(rs))
			scpu += perCall(r.serverCPU, r.rep) / float64(len(rs))
			gcpu += perCall(r.generatorCPU, r.rep) / float64(len(rs))
		}
		return
	}
	for _, c := range peers.Cases {
		bareRPS, bareP50, bareP99, bareS, bareG := mean(results[key{string(c), "bare"}])
		fmt.Fprintf(&b, "| %s | bare fasthttp | HTTP | 64 conns | %s | %.2f ms | %.2f ms | %.2f | %.2f | 1.00 |\n",
			c, thousands(bareRPS), bareP50, bareP99, bareS, bareG)
		for _, s := range peers.PersistentServers {
			for _, sh := range shapes {
				rs := results[key{string(c), fmt.Sprintf("%s|%s|%d|%d", s.Name, s.Transport, sh.conns, sh.pipeline)}]
				if len(rs) == 0 {
					continue
				}
				rps, p50, p99, scpu, gcpu := mean(rs)
				fmt.Fprintf(&b, "| %s | %s | %s | %d×%d | %s | %.2f ms | %.2f ms | %.2f | %.2f | %.2f |\n",
					c, s.Name, s.Transport, sh.conns, sh.pipeline, thousands(rps), p50, p99, scpu, gcpu, rps/bareRPS)
			}
		}
	}
	return b.String(), nil
}

// perCall is cpu seconds over the run's calls, in microseconds (a batch
// is one call).
func perCall(cpu float64, rep bench.Report) float64 {
	if rep.Requests == 0 {
		return 0
	}
	return cpu / float64(rep.Requests) * 1e6
}

// measure starts `peers SERVE…` pinned to the server CPU, loads it with
// `jetrpc bench BENCH…` pinned to the load CPU, and returns the report and
// the CPU both used while the measured part ran (the warm-up included for
// the server, whose CPU is read before and after the bench).
func (l loopback) measure(ctx context.Context, serveArgs, benchArgs []string) (run1, error) {
	self, err := os.Executable()
	if err != nil {
		return run1{}, err
	}
	srv := exec.CommandContext(ctx, "taskset", append([]string{"-c", l.serverCPU, self}, serveArgs...)...)
	srv.Env = append(os.Environ(), "GOMAXPROCS=1")
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return run1{}, err
	}
	defer stopProcess(srv)
	if err := waitListening(l.addr, 10*time.Second); err != nil {
		return run1{}, err
	}
	bctx, cancel := context.WithTimeout(ctx, l.warmup+l.duration+30*time.Second)
	defer cancel()
	args := append([]string{"-c", l.loadCPU, l.jetrpc, "bench"}, benchArgs...)
	args = append(args, "-duration", l.duration.String(), "-warmup", l.warmup.String(), "-json")
	load := exec.CommandContext(bctx, "taskset", args...)
	load.Env = append(os.Environ(), "GOMAXPROCS=1")
	var stderr, stdout strings.Builder
	load.Stderr, load.Stdout = &stderr, &stdout
	if err := load.Start(); err != nil {
		return run1{}, err
	}
	// Both CPUs are read at the end of the warm-up and at the end of the
	// run, so that they cover the measured part only.
	time.Sleep(l.warmup)
	s0, g0 := cpuSeconds(srv.Process.Pid), cpuSeconds(load.Process.Pid)
	time.Sleep(l.duration)
	s1, g1 := cpuSeconds(srv.Process.Pid), cpuSeconds(load.Process.Pid)
	err = load.Wait()
	var rep bench.Report
	if jerr := json.Unmarshal([]byte(stdout.String()), &rep); jerr != nil {
		return run1{}, fmt.Errorf("jetrpc bench: %v: %s", err, stderr.String())
	}
	if rep.Errors > 0 || err != nil {
		return run1{}, fmt.Errorf("jetrpc bench: %d failed calls %v (%v)", rep.Errors, rep.ErrorsByKind, err)
	}
	return run1{rep: rep, serverCPU: s1 - s0, generatorCPU: g1 - g0}, nil
}

// cpuSeconds is a process's user+system CPU time so far (Linux /proc).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // clock ticks; USER_HZ is 100 on Linux
}

// servePersistent serves the persistent server name on transport at addr
// until ctx is done.
func servePersistent(ctx context.Context, name, transport, addr string) error {
	s, ok := peers.LookupPersistent(name, transport)
	if !ok {
		return fmt.Errorf("no persistent server %q on %q", name, transport)
	}
	return serveUntil(ctx, addr, s.Start)
}
