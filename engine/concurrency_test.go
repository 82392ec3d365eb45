package engine_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
)

func TestBatchConcurrency(t *testing.T) {
	var running, peak atomic.Int64
	e := newDemo(t, engine.WithBatchConcurrency(4))
	must(t, engine.Register(e, "slow", func(_ context.Context, p struct {
		N int `json:"n"`
	}) (int, error) {
		n := running.Add(1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		running.Add(-1)
		return p.N, nil
	}))
	var in, want strings.Builder
	in.WriteString("[")
	want.WriteString("[")
	for i := range 12 {
		if i > 0 {
			in.WriteString(",")
			want.WriteString(",")
		}
		in.WriteString(`{"jsonrpc":"2.0","method":"slow","params":[` + strconv.Itoa(i) + `],"id":` + strconv.Itoa(i) + `}`)
		want.WriteString(`{"jsonrpc":"2.0","result":` + strconv.Itoa(i) + `,"id":` + strconv.Itoa(i) + `}`)
	}
	in.WriteString(`,{"jsonrpc":"2.0","method":"slow","params":[99]}]`) // a notification: no answer
	want.WriteString("]")
	start := time.Now()
	got := handle(e, in.String())
	if got != want.String() {
		t.Errorf("answers out of order or wrong:\ngot  %s\nwant %s", got, want.String())
	}
	if p := peak.Load(); p < 2 || p > 4 {
		t.Errorf("peak concurrency %d, want 2..4", p)
	}
	if d := time.Since(start); d > 12*20*time.Millisecond {
		t.Errorf("12 calls of 20ms took %v with 4 workers", d)
	}
	// Notifications only: nothing at all.
	if got := handle(e, `[{"jsonrpc":"2.0","method":"ping"},{"jsonrpc":"2.0","method":"ping"}]`); got != "" {
		t.Errorf("notifications only: %q", got)
	}
}

func BenchmarkBatchConcurrency(b *testing.B) {
	adds := "[" + strings.Repeat(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},`, 9) + `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}]`
	sleeps := "[" + strings.Repeat(`{"jsonrpc":"2.0","method":"sleep","params":{"ms":1},"id":1},`, 9) + `{"jsonrpc":"2.0","method":"sleep","params":{"ms":1},"id":1}]`
	for _, mode := range []struct {
		name string
		opts []engine.Option
	}{{"sequential", nil}, {"concurrent_8", []engine.Option{engine.WithBatchConcurrency(8)}}} {
		e := newDemo(b, mode.opts...)
		for _, c := range []struct{ name, body string }{{"10_adds", adds}, {"10_sleeps_1ms", sleeps}} {
			b.Run(mode.name+"/"+c.name, func(b *testing.B) {
				in := []byte(c.body)
				var out []byte
				b.ReportAllocs()
				for b.Loop() {
					out = e.Append(context.Background(), out[:0], in)
				}
			})
		}
	}
}
