// Package bench is the load generator behind `jetrpc bench` (Load: closed
// or open loop against any JSON-RPC HTTP endpoint, every answer checked,
// latency in an HDR histogram, nothing allocated per request), jetrpc's
// in-process benchmarks, and the bare fasthttp handler they are measured
// against.
package bench

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// BareAnswer is what BareHandler sends: a ping answer.
var BareAnswer = []byte(`{"jsonrpc":"2.0","result":"pong","id":1}`)

var strApplicationJSON = []byte("application/json")

// BareHandler answers every request with BareAnswer without reading it.
var BareHandler = FixedHandler(BareAnswer)

// FixedHandler returns a handler that answers every request with answer,
// as application/json, without reading the request: the ceiling a JSON-RPC
// server on fasthttp can reach for a case whose answer is answer, against
// which jetrpc's figures are quoted. It allocates nothing.
func FixedHandler(answer []byte) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.SetContentTypeBytes(strApplicationJSON)
		ctx.Response.SetBody(answer)
	}
}

// WorkingHandler is FixedHandler for a server that costs work more CPU
// per request than the bare handler: before each answer it keeps the CPU
// busy for work in a loop of arithmetic on registers (busyLoop, not the
// load generator's clock polling), calibrated once, the first time a
// handler is made, against the monotonic clock. It touches no
// memory, so work is what it adds even with cold caches. Loaded over
// loopback beside the bare handler, a series of them shows how the
// ratio to the bare handler falls as a server's cost per request grows
// (`serve -baseline -baseline-work`, README "Loopback"). It allocates
// nothing per request.
func WorkingHandler(answer []byte, work time.Duration) fasthttp.RequestHandler {
	fixed := FixedHandler(answer)
	if work <= 0 {
		return fixed
	}
	n := busyRoundsFor(work)
	return func(ctx *fasthttp.RequestCtx) {
		busyLoop(n)
		fixed(ctx)
	}
}

// busySink keeps busyLoop's result alive, so that the compiler keeps its
// loop.
var busySink atomic.Uint64

// busyLoop runs n rounds of a 64-bit linear congruential step: one multiply
// and one add on a register a round, each depending on the last.
func busyLoop(n int) {
	x := uint64(n)
	for range n {
		x = x*6364136223846793005 + 1442695040888963407
	}
	busySink.Store(x)
}

var (
	busyCalibration     sync.Once
	busyRoundsPerSecond float64
)

// busyRoundsFor returns the rounds of busyLoop that take d on this
// machine: the best of three timings of 2^20 rounds (~1 ms), so that a
// preemption during one does not inflate it.
func busyRoundsFor(d time.Duration) int {
	busyCalibration.Do(func() {
		const rounds = 1 << 20
		best := time.Duration(math.MaxInt64)
		for range 3 {
			start := time.Now()
			busyLoop(rounds)
			best = min(best, max(time.Since(start), time.Nanosecond))
		}
		busyRoundsPerSecond = rounds / best.Seconds()
	})
	return max(1, int(d.Seconds()*busyRoundsPerSecond))
}
