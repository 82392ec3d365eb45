package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

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

	middleware       []Middleware
	observers        []Observer
	introspection    bool
	openrpc          atomic.Pointer[[]byte] // the rpc.discover answer, rebuilt at each registration
	openrpcTitle     string
	openrpcVersion   string
	batchWorkers     int
	limits           codec.Limits
	maxResponseBytes int
	callTimeout      time.Duration
	namespaces       map[string]*subNamespace // of subscriptions, under mu
}

// Default limits, each an Option to change. They bound what one request
// can make the server do or hold.
const (
	// DefaultMaxBatchItems bounds a batch, as go-ethereum does; a larger
	// batch is answered with one -32600 error and none of it runs.
	DefaultMaxBatchItems = 1000
	// DefaultMaxMethodNameLength bounds a method name in bytes (-32600).
	DefaultMaxMethodNameLength = 256
	// DefaultMaxParamsDepth bounds the nesting of params (-32600): deep
	// enough for any real API, far below what costs a decoder stack.
	DefaultMaxParamsDepth = 128
	// DefaultMaxBatchResponseBytes is the answer budget of a batch: once
	// its answers pass it, the remaining calls are not run and get
	// ErrResponseTooLarge instead.
	DefaultMaxBatchResponseBytes = 16 << 20
)

// Errors the engine answers with on its own: server-defined codes in the
// range the specification reserves for implementations.
var (
	// ErrCallCancelled answers a call whose context was cancelled: its
	// client went away or the server is shutting down (code -32000). A
	// handler that returns context.Canceled, or wraps it, answers it too.
	ErrCallCancelled = &codec.Error{Code: -32000, Message: "call cancelled"}
	// ErrCallTimeout answers a call that outlived its timeout or its
	// request's deadline (code -32001). A handler that returns
	// context.DeadlineExceeded, or wraps it, answers it too.
	ErrCallTimeout = &codec.Error{Code: -32001, Message: "call timed out"}
	// ErrResponseTooLarge answers the calls of a batch left when its answer
	// budget is spent (code -32003); they are not run.
	ErrResponseTooLarge = &codec.Error{Code: -32003, Message: "batch response too large"}
)

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger for handler panics. The default is
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.logger = l } }

// limit turns an option's n into a bound: n > 0 sets it, n < 0 removes it,
// 0 keeps the default.
func limit(current, n int) int {
	switch {
	case n > 0:
		return n
	case n < 0:
		return 0
	}
	return current
}

// WithMaxBatchItems bounds the items of a batch (DefaultMaxBatchItems; a
// negative n removes the bound).
func WithMaxBatchItems(n int) Option {
	return func(e *Engine) { e.limits.MaxItems = limit(e.limits.MaxItems, n) }
}

// WithMaxMethodNameLength bounds method names in bytes
// (DefaultMaxMethodNameLength; a negative n removes the bound).
func WithMaxMethodNameLength(n int) Option {
	return func(e *Engine) { e.limits.MaxMethodLength = limit(e.limits.MaxMethodLength, n) }
}

// WithMaxParamsDepth bounds the nesting of params (DefaultMaxParamsDepth;
// a negative n removes the bound, leaving codec.MaxDepth).
func WithMaxParamsDepth(n int) Option {
	return func(e *Engine) { e.limits.MaxParamsDepth = limit(e.limits.MaxParamsDepth, n) }
}

// WithMaxBatchResponseBytes sets the answer budget of a batch
// (DefaultMaxBatchResponseBytes; a negative n removes it).
func WithMaxBatchResponseBytes(n int) Option {
	return func(e *Engine) { e.maxResponseBytes = limit(e.maxResponseBytes, n) }
}

// WithMiddleware wraps every method registered on the engine in mw, the
// first outermost (see Middleware).
func WithMiddleware(mw ...Middleware) Option {
	return func(e *Engine) { e.middleware = append(e.middleware, mw...) }
}

// WithBatchConcurrency runs the items of a batch on up to n goroutines at
// once (n > 1), answering them in request order. The default is one at a
// time: cheap calls lose more to goroutines, buffers and synchronization
// than they gain. Measured with BenchmarkBatchConcurrency on 2 cores, 8
// workers: ten adds take 25 µs instead of 3 µs (35 allocations instead of
// 0), ten 1 ms sleeps 2.5 ms instead of 11.3 ms. Choose it for batches of
// slow, waiting calls.
func WithBatchConcurrency(n int) Option { return func(e *Engine) { e.batchWorkers = n } }

// WithV1Compat accepts JSON-RPC 1.0 requests (no "jsonrpc" member) and
// answers them in 1.0 form: {"result": …, "error": null, "id": …}; a 1.0
// request whose id is null is a notification. Without it such requests
// are -32600.
func WithV1Compat() Option { return func(e *Engine) { e.limits.AcceptV1 = true } }

// WithCallTimeout bounds every call that has no timeout of its own (see
// Timeout): its context is cancelled at the deadline and it is answered
// with ErrCallTimeout. Off by default. A call with a timeout costs the
// allocations of context.WithTimeout.
func WithCallTimeout(d time.Duration) Option { return func(e *Engine) { e.callTimeout = d } }

// New returns an Engine with no methods and the default limits.
func New(opts ...Option) *Engine {
	e := &Engine{
		logger:         slog.Default(),
		openrpcTitle:   "jetrpc",
		openrpcVersion: "1.0.0",
		limits: codec.Limits{
			MaxItems:        DefaultMaxBatchItems,
			MaxMethodLength: DefaultMaxMethodNameLength,
			MaxParamsDepth:  DefaultMaxParamsDepth,
		},
		maxResponseBytes: DefaultMaxBatchResponseBytes,
	}
	for _, o := range opts {
		o(e)
	}
	empty := map[string]*method{}
	e.methods.Store(&empty)
	e.calls.New = func() any { return &Call{engine: e} }
	if e.introspection {
		e.registerIntrospection()
	}
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
// ctx bounds the whole request: a call that would start after ctx is done
// (its client gone, its deadline passed, the server shutting down) is not
// run and answers ErrCallCancelled or ErrCallTimeout, so that a batch ends
// soon after its request does. Checking costs a select per call.
//
// In steady state it allocates nothing beyond what the handlers allocate.
// in must not change during the call; nothing of it is kept afterwards.
func (e *Engine) Append(ctx context.Context, dst, in []byte) []byte {
	b := codec.AcquireBatch()
	defer codec.ReleaseBatch(b)
	b.Limits = e.limits
	if err := b.Parse(in); err != nil {
		if e.observers != nil {
			e.rejectAll(ctx, codec.ErrParse)
		}
		return codec.AppendParseError(dst, err.(*codec.SyntaxError))
	}
	if e.observers != nil && b.IsArray && b.Items > 0 {
		e.observeBatch(b.Items)
	}
	if b.Items > len(b.Requests) && b.Items > 1 { // over MaxItems: none of it runs
		if e.observers != nil {
			e.rejectAll(ctx, codec.ErrInvalidRequest)
		}
		reason := fmt.Sprintf("batch has %d items, more than the limit of %d", b.Items, e.limits.MaxItems)
		return codec.AppendError(dst, nil, codec.ErrInvalidRequest.WithData(reason))
	}
	// One Call serves every item: items run one after the other.
	c := e.acquireCall(ctx)
	defer e.releaseCall(c)
	if !b.IsArray {
		dst, _ = e.appendOne(ctx, c, dst, &b.Requests[0])
		return dst
	}
	if r := &b.Requests[0]; r.Invalid == codec.InvalidEmptyBatch {
		// An empty batch is answered with one error, not an array.
		if e.observers != nil {
			e.rejectAll(ctx, codec.ErrInvalidRequest)
		}
		return codec.AppendInvalidRequest(dst, nil, r.Invalid)
	}
	if e.batchWorkers > 1 && len(b.Requests) > 1 {
		return e.appendConcurrently(ctx, dst, b.Requests)
	}
	start := len(dst)
	dst = codec.AppendBatchOpen(dst)
	for i := range b.Requests {
		if e.maxResponseBytes > 0 && len(dst)-start > e.maxResponseBytes {
			// The budget is spent (error answers count too): the rest is not run.
			r := &b.Requests[i]
			if e.observers != nil {
				e.reject(ctx, r, e.isRegistered(r.Method), ErrResponseTooLarge)
			}
			if !r.IsNotification() {
				dst = codec.AppendError(codec.AppendBatchItem(dst, start), r.ID, ErrResponseTooLarge)
			}
			continue
		}
		mark := len(dst)
		var ok bool
		if dst, ok = e.appendOne(ctx, c, codec.AppendBatchItem(dst, start), &b.Requests[i]); !ok {
			dst = dst[:mark] // a notification: drop the separator too
		}
	}
	return codec.AppendBatchClose(dst, start) // nothing at all for notifications only
}

// acquireCall returns a pooled Call for one request of ctx (or one item
// run apart from the others), its Span zero.
func (e *Engine) acquireCall(ctx context.Context) *Call {
	c := e.calls.Get().(*Call)
	c.done = ctx.Done() // once, not per item: Done of a context never changes
	return c
}

// releaseCall ends c's request: it has the Span's pending calls recorded,
// then gives c back to the pool, without its request's channel or Span.
func (e *Engine) releaseCall(c *Call) {
	if s := &c.span; s.Calls != 0 && s.End != nil {
		s.End(s)
	}
	c.span = Span{}
	c.done = nil
	e.calls.Put(c)
}

// appendConcurrently answers the requests of a batch on up to
// e.batchWorkers goroutines and appends the answers in request order. The
// answer budget is checked before each call starts, against the answers
// finished so far.
func (e *Engine) appendConcurrently(ctx context.Context, dst []byte, reqs []codec.Request) []byte {
	answers := make([][]byte, len(reqs))
	owed := make([]bool, len(reqs))
	sem := make(chan struct{}, e.batchWorkers)
	var wg sync.WaitGroup
	var used atomic.Int64
	for i := range reqs {
		r := &reqs[i]
		if ended(ctx) != nil {
			// The request is over: appendOne answers inline without running
			// the method, in the order and form a serial batch would.
			c := e.acquireCall(ctx)
			answers[i], owed[i] = e.appendOne(ctx, c, nil, r)
			e.releaseCall(c)
			continue
		}
		if e.maxResponseBytes > 0 && used.Load() > int64(e.maxResponseBytes) {
			if e.observers != nil {
				e.reject(ctx, r, e.isRegistered(r.Method), ErrResponseTooLarge)
			}
			if !r.IsNotification() {
				answers[i], owed[i] = codec.AppendError(nil, r.ID, ErrResponseTooLarge), true
			}
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c := e.acquireCall(ctx)
			answers[i], owed[i] = e.appendOne(ctx, c, nil, r)
			e.releaseCall(c)
			used.Add(int64(len(answers[i])))
		}()
	}
	wg.Wait()
	start := len(dst)
	dst = codec.AppendBatchOpen(dst)
	for i, a := range answers {
		if owed[i] {
			dst = append(codec.AppendBatchItem(dst, start), a...)
		}
	}
	return codec.AppendBatchClose(dst, start)
}

// appendOne answers one request; it reports false, having appended
// nothing, when no answer is owed.
func (e *Engine) appendOne(ctx context.Context, c *Call, dst []byte, r *codec.Request) ([]byte, bool) {
	if r.Invalid != "" {
		if e.observers != nil {
			e.reject(ctx, r, false, codec.ErrInvalidRequest)
		}
		return codec.AppendInvalidRequest(dst, r.ID, r.Invalid), true
	}
	v1 := r.Version == codec.VersionNone // accepted only under WithV1Compat
	// The items of a batch mostly call one method: the Call remembers the
	// last one found, which a comparison confirms without hashing (a name
	// once registered always names the same method).
	m := c.last
	if m == nil || m.name != string(r.Method) {
		m = (*e.methods.Load())[string(r.Method)] // no allocation: the compiler reads the bytes in place
		if m != nil {
			c.last = m
		}
	}
	if m == nil {
		if e.observers != nil {
			e.reject(ctx, r, false, codec.ErrMethodNotFound)
		}
		if r.IsNotification() {
			return dst, false
		}
		return appendError(dst, r.ID, codec.ErrMethodNotFound, v1), true
	}
	if ce := endedOn(ctx, c.done); ce != nil { // not run: its request is over
		if e.observers != nil {
			e.reject(ctx, r, true, ce)
		}
		if r.IsNotification() {
			return dst, false
		}
		return appendError(dst, r.ID, ce, v1), true
	}
	mark := len(dst)
	c.ctx, c.req = ctx, r
	if v1 {
		c.out = codec.AppendResultPrefixV1(dst)
	} else {
		c.out = codec.AppendResultPrefix(dst)
	}
	c.resultStart = len(c.out)
	timeout := m.timeout
	if timeout == 0 {
		timeout = e.callTimeout
	}
	var err error
	if timeout > 0 {
		err = e.invokeWithTimeout(ctx, m, c, timeout)
	} else {
		err = e.invoke(m, c)
	}
	dst = c.out
	if err == nil && len(dst) == c.resultStart {
		dst = append(dst, "null"...) // the handler set no result
	}
	c.reset()
	if r.IsNotification() {
		return dst[:mark], false
	}
	if err != nil {
		return appendHandlerError(dst[:mark], r.ID, err, v1), true
	}
	if v1 {
		return codec.AppendResponseEndV1(dst, r.ID), true
	}
	return codec.AppendResponseEnd(dst, r.ID), true
}

// appendError answers with e, in 1.0 form when v1.
func appendError(dst, id []byte, e *codec.Error, v1 bool) []byte {
	if v1 {
		return codec.AppendErrorV1(dst, id, e)
	}
	return codec.AppendError(dst, id, e)
}

// ended returns the error a call answers with instead of running when ctx
// is already done, or nil.
func ended(ctx context.Context) *codec.Error { return endedOn(ctx, ctx.Done()) }

// endedOn is ended with ctx's Done channel read beforehand: a batch item
// then costs a select, not an interface call too (see acquireCall). Done
// of context.Background is nil, and a select on a nil channel falls
// through at once.
func endedOn(ctx context.Context, done <-chan struct{}) *codec.Error {
	select {
	case <-done:
		return ErrorOf(ctx.Err())
	default:
		return nil
	}
}

// ErrorOf returns the JSON-RPC error the engine answers err with: the
// *codec.Error err is or wraps; ErrCallCancelled for context.Canceled and
// ErrCallTimeout for context.DeadlineExceeded (or errors wrapping them);
// codec.ErrInternal (-32603, no detail, so that internals do not leak) for
// any other error; nil for nil. Middleware that logs or counts outcomes
// uses it to see the code the client sees. It allocates nothing for an
// unwrapped *codec.Error.
func ErrorOf(err error) *codec.Error {
	if err == nil {
		return nil
	}
	if ce, ok := err.(*codec.Error); ok {
		return ce
	}
	return wrappedError(err)
}

// wrappedError is ErrorOf past the common case. It is a function of its
// own because errors.As moves its target to the heap: an unwrapped
// *codec.Error must not pay for that.
func wrappedError(err error) *codec.Error {
	var ce *codec.Error
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, context.Canceled):
		return ErrCallCancelled
	case errors.Is(err, context.DeadlineExceeded):
		return ErrCallTimeout
	}
	return codec.ErrInternal
}

// invokeWithTimeout runs the handler with a context cancelled after
// timeout; a call still running then is answered with ErrCallTimeout,
// whatever it returns (a Go function cannot be stopped from outside: the
// handler must watch its context to stop early).
func (e *Engine) invokeWithTimeout(ctx context.Context, m *method, c *Call, timeout time.Duration) error {
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c.ctx = callCtx
	err := e.invoke(m, c)
	if errors.Is(callCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		return ErrCallTimeout
	}
	return err
}

// errPanic answers a handler that panicked.
var errPanic = codec.ErrInternal

// invoke runs the handler, turning a panic into an error.
func (e *Engine) invoke(m *method, c *Call) (err error) {
	defer func() {
		if p := recover(); p != nil {
			e.logPanic(m.name, p)
			err = errPanic
		}
	}()
	return m.handler(c)
}

// appendHandlerError answers with ErrorOf(err).
func appendHandlerError(dst, id []byte, err error, v1 bool) []byte {
	ce := ErrorOf(err)
	if len(ce.Data) > 0 && !codec.Valid(ce.Data) {
		ce = &codec.Error{Code: ce.Code, Message: ce.Message} // invalid data is dropped, never sent
	}
	return appendError(dst, id, ce, v1)
}
