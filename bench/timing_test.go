//go:build !race

package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
)

// latenessBound is the send lateness p99 the open loop keeps here.
const latenessBound = 100 * time.Microsecond

// TestOpenLoopTiming: against an in-process server that answers at once,
// an open loop at 2,000 requests/s has its p50 close to a closed loop's
// (the generator's timer lag is not charged to the server) and sends
// within latenessBound of the due time at p99; a 1 ms delay planted in the
// send path breaks both, so the test can fail. (Skipped under -race,
// whose overhead is the generator's own lateness.)
func TestOpenLoopTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	url := "http://" + testserver.Loopback(t, testserver.Demo(t)) + fastserver.DefaultPath
	ping := []bench.Template{bench.Call("ping", nil, 1)}
	closed, err := bench.Load{URL: url, Requests: ping, Concurrency: 1, Duration: time.Second}.Run(context.Background())
	if err != nil || closed.Errors != 0 {
		t.Fatalf("closed loop: %+v %v", closed, err)
	}
	good := func(rep *bench.Report) bool {
		p50Close := rep.LatencyUS.P50 <= closed.LatencyUS.P50+50 || rep.LatencyUS.P50 <= 2*closed.LatencyUS.P50
		return rep.Errors == 0 && p50Close && time.Duration(rep.SendLatenessUS.P99)*time.Microsecond < latenessBound
	}
	open := bench.Load{URL: url, Requests: ping, Concurrency: 4, Rate: 2000, Duration: 2 * time.Second}
	var rep *bench.Report
	for attempt := 1; attempt <= 2; attempt++ { // a second chance: the machine is shared and noisy
		if rep, err = open.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if good(rep) {
			break
		}
	}
	t.Logf("closed p50 %d µs; open p50 %d µs, lateness p50 %d p99 %d max %d µs", closed.LatencyUS.P50,
		rep.LatencyUS.P50, rep.SendLatenessUS.P50, rep.SendLatenessUS.P99, rep.SendLatenessUS.Max)
	if !good(rep) {
		t.Errorf("open loop at 2000/s: p50 %d µs against %d closed, lateness p99 %d µs (bound %v)",
			rep.LatencyUS.P50, closed.LatencyUS.P50, rep.SendLatenessUS.P99, latenessBound)
	}
	bench.SetSendDelay(&open, time.Millisecond)
	open.Duration = 500 * time.Millisecond
	planted, err := open.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if good(planted) {
		t.Errorf("a 1 ms delay in the send path went unnoticed: %+v", planted.SendLatenessUS)
	}
}
