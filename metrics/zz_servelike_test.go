//go:build !race

package metrics_test

import (
	"context"
	"testing"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/jetrpc/jetrpc/metrics"
)

func BenchmarkServeLike(b *testing.B) {
	m := metrics.New()
	with := engine.New(engine.WithMiddleware(m.Middleware()), engine.WithObserver(m))
	demo.Register(with)
	without := engine.New()
	demo.Register(without)
	in := []byte(hotPaths[2].in)
	for _, c := range []struct {
		name string
		e    *engine.Engine
	}{{"without", without}, {"with", with}} {
		b.Run(c.name, func(b *testing.B) {
			out := make([]byte, 0, 4096)
			for b.Loop() {
				out = c.e.Append(context.Background(), out[:0], in)
				if c.e == with {
					m.ObserveHTTP(200, len(in), len(out))
				}
			}
		})
	}
}
