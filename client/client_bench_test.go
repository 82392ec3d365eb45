package client_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jetrpc/jetrpc/client"
)

// BenchmarkCall measures whole calls against the project's own server:
// client, HTTP both ways and the engine, in one process.
func BenchmarkCall(b *testing.B) {
	for name, tr := range demoServer(b) {
		c := client.New(tr)
		ctx := context.Background()
		b.Run(name+"/raw", func(b *testing.B) {
			params := []byte(`[1,2]`)
			var dst []byte
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = c.CallRaw(ctx, dst[:0], "add", params); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/typed", func(b *testing.B) {
			params := [2]float64{1, 2}
			var sum float64
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Call(ctx, "add", &params, &sum); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/batch_10", func(b *testing.B) {
			params := json.RawMessage(`[1,2]`)
			var sums [10]float64
			b.ReportAllocs()
			for b.Loop() {
				batch := c.NewBatch()
				for i := range sums {
					batch.Call("add", &params, &sums[i])
				}
				if err := batch.Send(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
