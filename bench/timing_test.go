//go:build !race

package bench_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
)

// latenessBound is the send lateness p99 the open loop keeps here.
const latenessBound = 100 * time.Microsecond

// p50Slack is how far, in µs, the open loop's p50 may lie above the paced
// client's (or within twice it): both swing by tens of µs from run to run
// on a shared machine, and the delay planted below is ten times as long.
const p50Slack = 100

// TestOpenLoopTiming: against an in-process server that answers at once,
// an open loop at 2,000 requests/s has its p50 close to the round trip of
// a hand-paced client sending at the same rate (the generator's timer lag
// is not charged to the server) and sends within latenessBound of the due
// time at p99; a 1 ms delay planted in the send path breaks both, so the
// test can fail. The baseline is paced, not back to back: a request after
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
	good := func(rep *bench.Report, paced int64) bool {
		p50Close := rep.LatencyUS.P50 <= paced+p50Slack || rep.LatencyUS.P50 <= 2*paced
		return rep.Errors == 0 && p50Close && time.Duration(rep.SendLatenessUS.P99)*time.Microsecond < latenessBound
	}
	open := bench.Load{URL: url, Requests: ping, Concurrency: 4, Rate: 2000, Duration: 2 * time.Second}
	var rep *bench.Report
	var paced int64
	for attempt := 1; attempt <= 2; attempt++ { // a second chance: the machine is shared and noisy
		paced = pacedRoundTripP50(t, addr, 500*time.Microsecond, 2000)
		var err error
		if rep, err = open.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if good(rep, paced) {
			break
		}
	}
	t.Logf("paced p50 %d µs; open p50 %d µs, lateness p50 %d p99 %d max %d µs", paced,
		rep.LatencyUS.P50, rep.SendLatenessUS.P50, rep.SendLatenessUS.P99, rep.SendLatenessUS.Max)
	if !good(rep, paced) {
		t.Errorf("open loop at 2000/s: p50 %d µs against %d paced, lateness p99 %d µs (bound %v)",
			rep.LatencyUS.P50, paced, rep.SendLatenessUS.P99, latenessBound)
	}
	bench.SetSendDelay(&open, time.Millisecond)
	open.Duration = 500 * time.Millisecond
	planted, err := open.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if good(planted, paced) {
		t.Errorf("a 1 ms delay in the send path went unnoticed: p50 %d µs, lateness %+v",
			planted.LatencyUS.P50, planted.SendLatenessUS)
	}
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
