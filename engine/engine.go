package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/valyala/bytebufferpool"
)

// Engine is a JSON-RPC 2.0 method table and the dispatcher over it. Methods
// are registered with Register and RegisterRaw; requests go through Handle
// or Append, which every transport uses.
//
// An Engine is safe for concurrent use, registration included: the table is
// copied on each registration and read without locks.
type Engine struct {
	methods atomic.Pointer[map[string]*method]
	mu      sync.Mutex // serializes registrations
	slots   int        // typed methods registered: each has a slot in every Call
	logger  *slog.Logger
	calls   sync.Pool // *Call
}

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger for handler panics. The default is
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.logger = l } }

// New returns an Engine with no methods.
func New(opts ...Option) *Engine {
	e := &Engine{logger: slog.Default()}
	for _, o := range opts {
		o(e)
	}
	empty := map[string]*method{}
	e.methods.Store(&empty)
	e.calls.New = func() any { return &Call{engine: e} }
	return e
}

// Handle runs the request or batch in in and appends the answer to out. It
// appends nothing when no answer is owed (notifications only), which
// transports turn into HTTP 204. See Append.
func (e *Engine) Handle(ctx context.Context, in []byte, out *bytebufferpool.ByteBuffer) {
	out.B = e.Append(ctx, out.B, in)
}

// Append runs the request or batch in in and appends the answer to dst,
// returning the extended dst; it appends nothing when no answer is owed.
// It never panics on any input: invalid JSON is answered with -32700,
// invalid requests with -32600, and a panicking handler with -32603.
//
// In steady state it allocates nothing beyond what the handlers allocate.
// in must not change during the call; nothing of it is kept afterwards.
func (e *Engine) Append(ctx context.Context, dst, in []byte) []byte {
	b := codec.AcquireBatch()
	defer codec.ReleaseBatch(b)
	if err := b.Parse(in); err != nil {
		return codec.AppendParseError(dst, err.(*codec.SyntaxError))
	}
	// One Call serves every item: items run one after the other.
	c := e.calls.Get().(*Call)
	defer e.calls.Put(c)
	if !b.IsArray {
		dst, _ = e.appendOne(ctx, c, dst, &b.Requests[0])
		return dst
	}
	if r := &b.Requests[0]; r.Invalid == codec.InvalidEmptyBatch {
		// An empty batch is answered with one error, not an array.
		return codec.AppendInvalidRequest(dst, nil, r.Invalid)
	}
	start := len(dst)
	dst = codec.AppendBatchOpen(dst)
	for i := range b.Requests {
		mark := len(dst)
		var ok bool
		if dst, ok = e.appendOne(ctx, c, codec.AppendBatchItem(dst, start), &b.Requests[i]); !ok {
			dst = dst[:mark] // a notification: drop the separator too
		}
	}
	return codec.AppendBatchClose(dst, start) // nothing at all for notifications only
}

// appendOne answers one request; it reports false, having appended
// nothing, when no answer is owed.
func (e *Engine) appendOne(ctx context.Context, c *Call, dst []byte, r *codec.Request) ([]byte, bool) {
	if r.Invalid != "" {
		return codec.AppendInvalidRequest(dst, r.ID, r.Invalid), true
	}
	m := (*e.methods.Load())[string(r.Method)] // no allocation: the compiler reads the bytes in place
	if m == nil {
		if r.IsNotification() {
			return dst, false
		}
		return codec.AppendError(dst, r.ID, codec.ErrMethodNotFound), true
	}
	mark := len(dst)
	c.ctx, c.req = ctx, r
	c.out = codec.AppendResultPrefix(dst)
	c.resultStart = len(c.out)
	err := e.invoke(m, c)
	dst = c.out
	if err == nil && len(dst) == c.resultStart {
		dst = append(dst, "null"...) // the handler set no result
	}
	c.reset()
	if r.IsNotification() {
		return dst[:mark], false
	}
	if err != nil {
		return appendHandlerError(dst[:mark], r.ID, err), true
	}
	return codec.AppendResponseEnd(dst, r.ID), true
}

// wrappedError finds the *codec.Error that err wraps, or -32603. It is a
// function of its own because errors.As moves its target to the heap: the
// common case, an unwrapped *codec.Error, must not pay for that.
func wrappedError(err error) *codec.Error {
	var ce *codec.Error
	if errors.As(err, &ce) {
		return ce
	}
	return codec.ErrInternal
}

// errPanic answers a handler that panicked.
var errPanic = codec.ErrInternal

// invoke runs the handler, turning a panic into an error.
func (e *Engine) invoke(m *method, c *Call) (err error) {
	defer func() {
		if p := recover(); p != nil {
			e.logger.Error("jetrpc: handler panicked", "method", m.name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = errPanic
		}
	}()
	return m.handler(c)
}

// appendHandlerError answers with the *codec.Error err is or wraps, or
// with -32603 for any other error.
func appendHandlerError(dst, id []byte, err error) []byte {
	ce, ok := err.(*codec.Error)
	if !ok {
		ce = wrappedError(err)
	}
	if len(ce.Data) > 0 && !codec.Valid(ce.Data) {
		ce = &codec.Error{Code: ce.Code, Message: ce.Message} // invalid data is dropped, never sent
	}
	return codec.AppendError(dst, id, ce)
}
