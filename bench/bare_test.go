package bench_test

import (
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/valyala/fasthttp"
)

// TestWorkingHandler checks that a working handler answers as the bare
// one does, whatever its work.
func TestWorkingHandler(t *testing.T) {
	answer := []byte(`{"jsonrpc":"2.0","result":3,"id":1}`)
	for _, work := range []time.Duration{-time.Second, 0, time.Nanosecond, 2 * time.Microsecond} {
		var ctx fasthttp.RequestCtx
		bench.WorkingHandler(answer, work)(&ctx)
		if got := string(ctx.Response.Body()); got != string(answer) {
			t.Errorf("work %v: answered %s, want %s", work, got, answer)
		}
		if got := string(ctx.Response.Header.ContentType()); got != "application/json" {
			t.Errorf("work %v: content type %q", work, got)
		}
	}
}

// TestBusyRoundsGrowWithWork checks the calibration's arithmetic, not its
// timing (BenchmarkWorkingHandler shows that): more work is more rounds,
// and any work at least one.
func TestBusyRoundsGrowWithWork(t *testing.T) {
	prev := 0
	for _, work := range []time.Duration{time.Nanosecond, time.Microsecond, 10 * time.Microsecond, time.Millisecond} {
		n := bench.BusyRoundsFor(work)
		if n < 1 || n < prev {
			t.Errorf("BusyRoundsFor(%v) = %d after %d", work, n, prev)
		}
		prev = n
	}
	if a, b := bench.BusyRoundsFor(time.Microsecond), bench.BusyRoundsFor(time.Millisecond); b < 100*a {
		t.Errorf("1 ms is %d rounds, 1 µs %d: not in proportion", b, a)
	}
}

// BenchmarkWorkingHandler reads ~1 µs more a request than the bare
// handler when the calibration holds.
func BenchmarkWorkingHandler(b *testing.B) {
	answer := []byte(`{"jsonrpc":"2.0","result":3,"id":1}`)
	for _, c := range []struct {
		name string
		work time.Duration
	}{{"bare", 0}, {"work_1us", time.Microsecond}} {
		b.Run(c.name, func(b *testing.B) {
			h := bench.WorkingHandler(answer, c.work)
			var ctx fasthttp.RequestCtx
			b.ReportAllocs()
			for b.Loop() {
				h(&ctx)
			}
		})
	}
}
