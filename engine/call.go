package engine

import (
	"context"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/internal/jsonenc"
)

// Handler is the raw form of a method: it reads the call's raw params and
// sets its result. Returning a *codec.Error (or an error wrapping one)
// answers with that error; any other error answers -32603.
type Handler func(c *Call) error

// Call is one request being handled, given to a raw Handler.
//
// A Call and every slice it returns are valid until the Handler returns.
// Copy them to keep them. A Call is not safe for concurrent use.
type Call struct {
	engine      *Engine
	ctx         context.Context
	req         *codec.Request
	out         []byte // the answer being built, result prefix included
	resultStart int
	// last is the method the previous request of this Call named; see
	// appendOne.
	last *method
	// slots keeps one params value per typed method (a *P, by the method's
	// slot index), so that a call reuses it instead of a pool round trip.
	slots []any
	// span is the scratch of the middleware that times calls; see Span.
	span Span
	// done is Done of the request's context, read once per request.
	done <-chan struct{}
}

// slot returns the params value of the typed method with slot index i,
// making it on first use. The caller zeroes it before returning.
func slot[P any](c *Call, i int) *P {
	if i >= len(c.slots) {
		c.slots = append(c.slots, make([]any, i+1-len(c.slots))...)
	}
	if p, ok := c.slots[i].(*P); ok {
		return p
	}
	p := new(P)
	c.slots[i] = p
	return p
}

func (c *Call) reset() {
	c.ctx, c.req, c.out = nil, nil, nil
}

// Context returns the context of the call: the one given to Handle.
func (c *Call) Context() context.Context { return c.ctx }

// Method returns the method name.
// The returned slice is valid until the Handler returns. Copy it to keep it.
func (c *Call) Method() []byte { return c.req.Method }

// ID returns the raw JSON id, or nil for a notification.
// The returned slice is valid until the Handler returns. Copy it to keep it.
func (c *Call) ID() []byte { return c.req.ID }

// IsNotification reports whether no answer will be sent for this call.
func (c *Call) IsNotification() bool { return c.req.IsNotification() }

// Params returns the raw JSON params: an array, an object, or nil when the
// request had none.
// The returned slice is valid until the Handler returns. Copy it to keep it.
func (c *Call) Params() []byte { return c.req.Params }

// A Span is scratch space on a Call for the one middleware of an engine
// that times calls (metrics.Middleware does). The items of a batch run one
// after the other on one Call, so such middleware can time a run of calls
// of one method with one reading of the clock where the run ends, instead
// of one per call: it counts the run's calls here and records them when a
// call of another method starts, or, through End, when the request ends.
//
// The engine hands each request a zero Span and, as the request ends
// (after its answer is built, before Append returns), calls End if it is
// set and Calls is not 0. The items of a batch run concurrently (see
// WithBatchConcurrency) each have a Call, so a Span, of their own.
type Span struct {
	// Start is a reading of the monotonic clock: where the pending run
	// began, or where the last one ended.
	Start int64
	// Calls counts the calls of the pending run, not recorded yet.
	Calls int
	// Owner says whose calls they are (for metrics, the method's series).
	Owner any
	// End records the pending calls as the request ends.
	End func(*Span)
}

// Span returns the Span of c's request, for the middleware that times
// calls; it is valid until the request ends.
func (c *Call) Span() *Span { return &c.span }

// errResultSet answers a handler that sets its result twice.
var errResultSet = codec.NewError(codec.CodeInternalError, "result set twice")

// errInvalidResult answers a handler whose raw result is not valid JSON.
var errInvalidResult = codec.NewError(codec.CodeInternalError, "result is not valid JSON")

// ResultRaw sets the result to raw, which must be one valid JSON value; it
// is checked (a single pass, no allocation) and copied.
func (c *Call) ResultRaw(raw []byte) error {
	if len(c.out) != c.resultStart {
		return errResultSet
	}
	if !codec.Valid(raw) {
		return errInvalidResult
	}
	c.out = append(c.out, raw...)
	return nil
}

// ResultString sets the result to the JSON string s. It allocates nothing
// once the answer buffer has grown.
func (c *Call) ResultString(s string) error {
	if len(c.out) != c.resultStart {
		return errResultSet
	}
	c.out = codec.AppendString(c.out, s)
	return nil
}

// Result sets the result to the go-json encoding of v, without HTML
// escaping. It allocates what go-json needs for v (nothing for a pointer
// to a struct of plain fields); passing a non-pointer value costs an
// allocation for the interface conversion.
func (c *Call) Result(v any) error {
	if len(c.out) != c.resultStart {
		return errResultSet
	}
	out, err := jsonenc.Append(c.out, v)
	if err != nil {
		return codec.ErrInternal.WithData(err.Error())
	}
	c.out = out
	return nil
}
