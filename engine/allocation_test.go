//go:build !race

package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/valyala/bytebufferpool"
)

// AllocCases are the hot paths whose steady state must allocate nothing.
var allocCases = []struct{ name, in string }{
	{"ping raw", `{"jsonrpc":"2.0","method":"ping","id":1}`},
	{"add by name", `{"jsonrpc":"2.0","method":"add","params":{"a":1.5,"b":2},"id":"x"}`},
	{"add by position", `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":2}`},
	{"echo 1KiB", `{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("x", 1024) + `"],"id":3}`},
	{"batch of 10 adds", "[" + strings.Repeat(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},`, 9) +
		`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}]`},
	{"notification", `{"jsonrpc":"2.0","method":"add","params":[1,2]}`},
	{"unknown method", `{"jsonrpc":"2.0","method":"nope","id":1}`},
	{"handler error", `{"jsonrpc":"2.0","method":"fail","id":1}`},
	{"invalid request", `{"jsonrpc":"2.0","method":1,"id":1}`},
	{"parse error", `{"jsonrpc":"2.0","method":"add",`},
}

func TestHandleAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	e := newDemo(t)
	ctx := context.Background()
	out := bytebufferpool.Get()
	defer bytebufferpool.Put(out)
	for _, tc := range allocCases {
		in := []byte(tc.in)
		allocs := testing.AllocsPerRun(100, func() {
			out.Reset()
			e.Handle(ctx, in, out)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per Handle, want 0", tc.name, allocs)
		}
	}
}

// TestMiddlewareAllocations: a no-op middleware, global and per method,
// adds no allocation to a call.
func TestMiddlewareAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	noop := func(next engine.Handler) engine.Handler { return func(c *engine.Call) error { return next(c) } }
	e := newDemo(t, engine.WithMiddleware(noop, noop))
	must(t, e.RegisterRaw("wrapped", func(c *engine.Call) error { return c.ResultString("ok") }, engine.Use(noop)))
	out := bytebufferpool.Get()
	defer bytebufferpool.Put(out)
	for _, in := range []string{
		`{"jsonrpc":"2.0","method":"ping","id":1}`,
		`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`,
		`{"jsonrpc":"2.0","method":"wrapped","id":1}`,
	} {
		body := []byte(in)
		if allocs := testing.AllocsPerRun(100, func() {
			out.Reset()
			e.Handle(context.Background(), body, out)
		}); allocs != 0 {
			t.Errorf("%s through no-op middleware: %v allocs, want 0", in, allocs)
		}
	}
}

// TestShapeAllocations: every handler shape that can be allocation-free
// is: no params, no result, neither, and scalar params.
func TestShapeAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	e := engine.New()
	var sink float64
	must(t, engine.RegisterNoParams(e, "hello", func(context.Context) (string, error) { return "Hello", nil }))
	must(t, engine.RegisterNoResult(e, "store", func(_ context.Context, f float64) error { sink = f; return nil }, engine.ParamNames("f")))
	must(t, engine.RegisterNoParamsNoResult(e, "tick", func(context.Context) error { sink++; return nil }))
	must(t, engine.Register(e, "double", func(_ context.Context, n int) (int, error) { return 2 * n, nil }))
	must(t, engine.Register(e, "not", func(_ context.Context, b bool) (bool, error) { return !b, nil }))
	must(t, engine.Register(e, "raw", func(_ context.Context, v json.RawMessage) (json.RawMessage, error) { return v, nil }))
	out := bytebufferpool.Get()
	defer bytebufferpool.Put(out)
	for _, tc := range []struct{ in, want string }{
		{`{"jsonrpc":"2.0","method":"hello","id":1}`, `{"jsonrpc":"2.0","result":"Hello","id":1}`},
		{`{"jsonrpc":"2.0","method":"store","params":[1.5],"id":1}`, `{"jsonrpc":"2.0","result":null,"id":1}`},
		{`{"jsonrpc":"2.0","method":"store","params":{"f":2},"id":1}`, `{"jsonrpc":"2.0","result":null,"id":1}`},
		{`{"jsonrpc":"2.0","method":"tick","id":1}`, `{"jsonrpc":"2.0","result":null,"id":1}`},
		{`{"jsonrpc":"2.0","method":"double","params":[21],"id":1}`, `{"jsonrpc":"2.0","result":42,"id":1}`},
		{`{"jsonrpc":"2.0","method":"not","params":[true],"id":1}`, `{"jsonrpc":"2.0","result":false,"id":1}`},
		{`{"jsonrpc":"2.0","method":"raw","params":[{"a":1}],"id":1}`, `{"jsonrpc":"2.0","result":{"a":1},"id":1}`},
	} {
		in := []byte(tc.in)
		allocs := testing.AllocsPerRun(100, func() {
			out.Reset()
			e.Handle(context.Background(), in, out)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per Handle, want 0", tc.in, allocs)
		}
		if string(out.B) != tc.want {
			t.Errorf("%s: answered %s, want %s", tc.in, out.B, tc.want)
		}
	}
	_ = sink
}
