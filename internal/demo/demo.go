// Package demo holds the methods `jetrpc serve` exposes as a load-test
// target: ping, echo, add, sleep and fail. Tests and benchmarks register
// the same methods, so that every figure is measured on what users run.
package demo

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
)

// MaxSleep bounds the sleep method, so that a client cannot park a server
// goroutine for longer than this with one call.
const MaxSleep = time.Minute

// EchoParams is echo's params: [v] or {"message": v}.
type EchoParams struct {
	// Message is borrowed from the request and echoed byte for byte.
	Message json.RawMessage `json:"message"`
}

// AddParams is add's params: [a, b] or {"a": a, "b": b}.
type AddParams struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// SleepParams is sleep's params: {"ms": N} or [N].
type SleepParams struct {
	MS int64 `json:"ms"`
}

// ErrFail is what the fail method answers.
var ErrFail = &codec.Error{Code: 1000, Message: "fail"}

var pong = []byte(`"pong"`)

// Register adds the demo methods to e.
func Register(e *engine.Engine) error {
	if err := e.RegisterRaw("ping", func(c *engine.Call) error { return c.ResultRaw(pong) },
		engine.Describe(`Returns "pong".`)); err != nil {
		return err
	}
	if err := engine.Register(e, "echo", Echo, engine.Describe("Returns its message unchanged: [v] or {\"message\": v}.")); err != nil {
		return err
	}
	if err := engine.Register(e, "add", Add, engine.Describe("Returns a+b: [a, b] or {\"a\": a, \"b\": b}.")); err != nil {
		return err
	}
	if err := engine.Register(e, "sleep", Sleep, engine.Describe("Returns null after ms milliseconds (at most 60000), or early when cancelled.")); err != nil {
		return err
	}
	return engine.Register(e, "fail", func(context.Context, struct{}) (any, error) { return nil, ErrFail },
		engine.Describe(`Always fails with code 1000, "fail".`))
}

// Echo returns its message unchanged.
func Echo(_ context.Context, p EchoParams) (json.RawMessage, error) { return p.Message, nil }

// Add returns a+b.
func Add(_ context.Context, p AddParams) (float64, error) { return p.A + p.B, nil }

var errSleepRange = codec.ErrInvalidParams.WithData("ms must be between 0 and 60000")

// Sleep waits p.MS milliseconds, or until ctx is done, and returns null.
// Cut short, it returns ctx's error, which the engine answers with
// engine.ErrCallCancelled or engine.ErrCallTimeout.
func Sleep(ctx context.Context, p SleepParams) (any, error) {
	// Compared before converting: ms * 1e6 overflows int64 for huge ms.
	if p.MS < 0 || p.MS > int64(MaxSleep/time.Millisecond) {
		return nil, errSleepRange
	}
	t := time.NewTimer(time.Duration(p.MS) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
