package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/bench/peers"
)

// loopback serves each library in turn on one core and loads it with
// `jetrpc bench` on another, over 127.0.0.1.
type loopback struct {
	jetrpc, addr       string
	duration, warmup   time.Duration
	rounds, conns      int
	serverCPU, loadCPU string
}

// measured accumulates one server's runs of one case.
type measured struct {
	rps      []float64 // by round
	p50, p99 float64   // sums over the runs
}

// ratio returns the median, over the rounds, of m's requests/s divided by
// bare's in the same round (the machine drifts between rounds more than
// within one), and the rounds' ratios.
func (m *measured) ratio(bare *measured) (float64, []float64) {
	rounds := make([]float64, 0, len(m.rps))
	for i, r := range m.rps {
		if i < len(bare.rps) && bare.rps[i] > 0 {
			rounds = append(rounds, r/bare.rps[i])
		}
	}
	if len(rounds) == 0 {
		return 0, nil
	}
	return median(rounds), rounds
}

// preflight refuses what a run must not do: load anything but loopback,
// or run unpinned.
func (l loopback) preflight() error {
	if host, _, err := net.SplitHostPort(l.addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("-addr %s: only loopback addresses are loaded", l.addr)
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return errors.New("taskset (util-linux) is needed to pin the server and the load generator")
	}
	return nil
}

func (l loopback) run(ctx context.Context, log io.Writer) (string, error) {
	if err := l.preflight(); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "peers")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	results := map[string]*measured{}
	for round := 1; round <= l.rounds; round++ {
		for _, c := range peers.Cases {
			for _, s := range peers.Servers {
				body := s.Body(c)
				if body == nil || s.Stream {
					continue
				}
				file := filepath.Join(tmp, "body.json")
				if err := os.WriteFile(file, body, 0o644); err != nil {
					return "", err
				}
				rep, err := l.once(ctx, s, c, file)
				if err != nil {
					return "", fmt.Errorf("%s, %s: %w", s.Name, c, err)
				}
				fmt.Fprintf(log, "round %d  %-14s %-22s %9.0f req/s  p50 %.3fms  p99 %.3fms\n",
					round, c, s.Name, rep.RPS, ms(rep.LatencyUS.P50), ms(rep.LatencyUS.P99))
				m := results[string(c)+"/"+s.Name]
				if m == nil {
					m = &measured{}
					results[string(c)+"/"+s.Name] = m
				}
				m.rps = append(m.rps, rep.RPS)
				m.p50 += ms(rep.LatencyUS.P50)
				m.p99 += ms(rep.LatencyUS.P99)
			}
		}
	}
	return l.table(results), nil
}

func ms(us int64) float64 { return float64(us) / 1000 }

// formatRatios writes ratios with two decimals, space-separated.
func formatRatios(ratios []float64) string {
	parts := make([]string, len(ratios))
	for i, r := range ratios {
		parts[i] = strconv.FormatFloat(r, 'f', 2, 64)
	}
	return strings.Join(parts, " ")
}

// once serves s for c pinned to the server CPU, loads it with jetrpc
// bench pinned to the load CPU, and stops it.
func (l loopback) once(ctx context.Context, s peers.Server, c peers.Case, bodyFile string) (*bench.Report, error) {
	r, err := l.measure(ctx, []string{"serve", "-server", s.Name, "-case", string(c), "-addr", l.addr},
		[]string{"-url", "http://" + l.addr + "/json-rpc", "-body", bodyFile, "-c", strconv.Itoa(l.conns)})
	if err != nil {
		return nil, err
	}
	return &r.rep, nil
}

func stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func waitListening(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server did not listen on %s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// table writes the loopback results as markdown, with how they were
// measured above them.
func (l loopback) table(results map[string]*measured) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s with `make peers`: each server alone on CPU %s with GOMAXPROCS=1, "+
		"loaded over 127.0.0.1 by `jetrpc bench -body … -c %d -warmup %s -duration %s` on CPU %s with GOMAXPROCS=1, "+
		"every answer checked; %d rounds, each serving every library in turn: req/s and latencies are the means of the rounds, "+
		"the ratio the median of the rounds' ratios (each round's in brackets).\n\n",
		time.Now().UTC().Format("2006-01-02"), machine(), l.serverCPU, l.conns, l.warmup, l.duration, l.loadCPU, l.rounds)
	b.WriteString("| case | server | req/s | p50 | p99 | ÷ bare fasthttp |\n| --- | --- | ---: | ---: | ---: | ---: |\n")
	for _, c := range peers.Cases {
		bare := results[string(c)+"/"+peers.Servers[0].Name]
		for _, s := range peers.Servers {
			if s.Stream {
				continue
			}
			m := results[string(c)+"/"+s.Name]
			if m == nil {
				fmt.Fprintf(&b, "| %s | %s | n/a | | | |\n", c, s.Name)
				continue
			}
			n := float64(len(m.rps))
			var sum float64
			for _, r := range m.rps {
				sum += r
			}
			ratio := ""
			if bare != nil {
				median, rounds := m.ratio(bare)
				ratio = fmt.Sprintf("%.2f", median)
				if m != bare && len(rounds) > 1 {
					ratio += " (" + formatRatios(rounds) + ")"
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f ms | %.2f ms | %s |\n", c, s.Name, thousands(sum/n), m.p50/n, m.p99/n, ratio)
		}
	}
	b.WriteString(notes(true))
	return b.String()
}
