// Package demo holds the methods `jetrpc serve` exposes as a load-test
// target: ping, echo, add, sleep and fail, and the ticks subscription
// (demo_subscribe) on persistent connections. Tests and benchmarks register
// the same methods, so that every figure is measured on what users run.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
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
	if err := engine.Register(e, "fail", func(context.Context, struct{}) (any, error) { return nil, ErrFail },
		engine.Describe(`Always fails with code 1000, "fail".`)); err != nil {
		return err
	}
	return engine.RegisterSubscription(e, "demo", "ticks", Ticks,
		engine.ParamNames("n"), engine.Describe(`Subscribes to ["ticks", n]: notifications with results 1 to n, TickInterval apart (WebSocket and streams only).`))
}

// MaxTicks bounds a ticks subscription (about 17 minutes of ticks).
const MaxTicks = 100_000

// TickInterval is the time between two ticks.
const TickInterval = 10 * time.Millisecond

// TickCount is the n of ["ticks", n]: 1 to MaxTicks.
type TickCount int

var errTickRange = errors.New("must be an integer between 1 and 100000")

// UnmarshalJSON reads n and checks its range, so that a bad n is refused
// before the subscription is answered.
func (n *TickCount) UnmarshalJSON(b []byte) error {
	v, err := strconv.Atoi(string(b))
	if err != nil || v < 1 || v > MaxTicks {
		return errTickRange
	}
	*n = TickCount(v)
	return nil
}

// Ticks sends 1, 2, …, n, TickInterval apart, then ends the subscription;
// earlier when the client unsubscribes or leaves.
func Ticks(ctx context.Context, n TickCount, sub *engine.Subscription[int]) error {
	t := time.NewTicker(TickInterval)
	defer t.Stop()
	for i := 1; i <= int(n); i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := sub.Send(i); err != nil {
			return nil // ended meanwhile
		}
	}
	return nil
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
