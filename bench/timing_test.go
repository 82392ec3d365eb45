//go:build !race

package bench_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
)

// latenessBound is how late, past the machine's own wake-ups, the open
// loop may send: at p50 absolutely, at p90 and p99 above what a bare wait
// for the same due times met on the machine around the run.
const latenessBound = 100 * time.Microsecond

// p50Slack is how far, in µs, the open loop's p50 may lie above the paced
// client's (or within twice it): both swing by tens of µs from run to run
// on a shared machine, and the delay planted below is ten times as long.
const p50Slack = 100

// TestOpenLoopTiming: against an in-process server that answers at once,
// an open loop at 2,000 requests/s has its p50 close to the round trip of
// a hand-paced client sending at the same rate (the generator's timer lag
// is not charged to the server), and sends on time: its lateness p50 under
// latenessBound, its p90 and p99 within latenessBound of the machine's (a
// bare wait for the same due times, measured just before and just after
// the run; the worse of the two). A 1 ms delay planted in the send path
// breaks all of these, so the test can fail.
//
// The tail is judged against the machine because a shared machine's
// stalls are not the generator's: CI once read p99 164 µs (max 4 ms) where
// this machine reads 10-40, and with both cores busy the bare wait alone
// reads p99 ~3 ms. The baseline is paced, not back to back: a request after
// half a millisecond of quiet wakes both sides from sleep, which on some
// machines costs 50 µs more than a hot loop (seen in CI: 64 µs against 13).
// (Skipped under -race, whose overhead is the generator's own lateness.)
func TestOpenLoopTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	addr := testserver.Loopback(t, testserver.Demo(t))
	url := "http://" + addr + fastserver.DefaultPath
	ping := []bench.Template{bench.Call("ping", nil, 1)}
	open := bench.Load{URL: url, Requests: ping, Concurrency: 4, Rate: 2000, Duration: 2 * time.Second}
	var rep *bench.Report
	var paced int64
	var machine bench.Latency
	var faults []string
	for attempt := 1; attempt <= 3; attempt++ { // more chances: the machine is shared and noisy
		paced = pacedRoundTripP50(t, addr, 500*time.Microsecond, 2000)
		before := bench.WakeLateness(open.Rate, time.Second)
		var err error
		if rep, err = open.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		machine = worse(before, bench.WakeLateness(open.Rate, time.Second))
		t.Logf("attempt %d: paced p50 %d µs, open p50 %d µs; lateness %+v, machine %+v µs",
			attempt, paced, rep.LatencyUS.P50, *rep.SendLatenessUS, machine)
		if faults = timingFaults(rep, paced, machine); len(faults) == 0 {
			break
		}
	}
	for _, f := range faults {
		t.Errorf("open loop at 2000/s: %s", f)
	}
	bench.SetSendDelay(&open, time.Millisecond)
	open.Duration = 500 * time.Millisecond
	planted, err := open.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if timingFaults(planted, paced, machine) == nil {
		t.Errorf("a 1 ms delay in the send path went unnoticed: p50 %d µs, lateness %+v",
			planted.LatencyUS.P50, planted.SendLatenessUS)
	}
}

// timingFaults lists what an open-loop run got wrong, given the paced
// client's p50 and the machine's own wake-up lateness (µs); nil if nothing.
func timingFaults(rep *bench.Report, paced int64, machine bench.Latency) []string {
	var faults []string
	if rep.Errors != 0 {
		faults = append(faults, fmt.Sprintf("%d errors", rep.Errors))
	}
	if p50 := rep.LatencyUS.P50; p50 > paced+p50Slack && p50 > 2*paced {
		faults = append(faults, fmt.Sprintf("latency p50 %d µs against %d paced", p50, paced))
	}
	bound := latenessBound.Microseconds()
	late := rep.SendLatenessUS
	if late.P50 > bound {
		faults = append(faults, fmt.Sprintf("lateness p50 %d µs, over %d", late.P50, bound))
	}
	if late.P90 > machine.P90+bound {
		faults = append(faults, fmt.Sprintf("lateness p90 %d µs, the machine's %d + %d", late.P90, machine.P90, bound))
	}
	if late.P99 > machine.P99+bound {
		faults = append(faults, fmt.Sprintf("lateness p99 %d µs, the machine's %d + %d", late.P99, machine.P99, bound))
	}
	return faults
}

// worse is a and b's higher value at each point.
func worse(a, b bench.Latency) bench.Latency {
	return bench.Latency{P50: max(a.P50, b.P50), P90: max(a.P90, b.P90), P99: max(a.P99, b.P99),
		P999: max(a.P999, b.P999), Max: max(a.Max, b.Max)}
}

// pacedRoundTripP50 is the median round trip, in µs, of n pings sent one
// at a time by a plain fasthttp client, each after gap of quiet: the
// latency the server and loopback give a request that wakes them.
func pacedRoundTripP50(t *testing.T, addr string, gap time.Duration, n int) int64 {
	t.Helper()
	c := &fasthttp.HostClient{Addr: addr, MaxConns: 1}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + fastserver.DefaultPath)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.SetBodyString(`{"jsonrpc":"2.0","method":"ping","id":1}`)
	rtts := make([]int64, 0, n)
	for range n {
		time.Sleep(gap)
		start := time.Now()
		if err := c.DoTimeout(req, resp, time.Second); err != nil || resp.StatusCode() != fasthttp.StatusOK {
			t.Fatalf("paced ping: status %d, %v", resp.StatusCode(), err)
		}
		rtts = append(rtts, time.Since(start).Microseconds())
	}
	slices.Sort(rtts)
	return rtts[n/2]
}
