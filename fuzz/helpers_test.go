package fuzz

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/demo"
)

// newEngine serves the demo methods that answer at once (ping, echo, add,
// fail): fuzzing sleep would only measure timers.
func newEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	e := engine.New(engine.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	mustDo(tb, e.RegisterRaw("ping", func(c *engine.Call) error { return c.ResultString("pong") }))
	mustDo(tb, engine.Register(e, "echo", demo.Echo))
	mustDo(tb, engine.Register(e, "add", demo.Add))
	mustDo(tb, engine.Register(e, "fail", func(context.Context, struct{}) (any, error) { return nil, demo.ErrFail }))
	return e
}

func mustDo(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
