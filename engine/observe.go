package engine

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/jetrpc/jetrpc/codec"
)

// Observer is told what middleware cannot see: the requests the engine
// answers without running a method, and the size of every batch. Metrics
// and request logs use it beside their middleware, so that every outcome
// is seen once: a call that runs by the middleware, any other by the
// observer. Its methods run on the request path, concurrently: they must
// be safe for concurrent use and cheap, and must not keep the slices they
// are given.
type Observer interface {
	// ObserveBatch is called once per batch request (a JSON array of at
	// least one item) with its number of items, before any runs; a batch
	// over the item limit is reported too, and then rejected.
	ObserveBatch(items int)
	// ObserveRejected is called once per request answered without running
	// its method, notifications included (they get no answer, but are
	// rejected all the same). ctx is the request's (with its transport
	// Metadata).
	ObserveRejected(ctx context.Context, r Rejection)
}

// A Rejection is a request the engine answered without running a method.
type Rejection struct {
	// Method is the method the request named, as sent; nil when none
	// could be read (a parse error, a batch over its limit).
	Method []byte
	// Registered reports whether Method names a registered method: the
	// request was over before it could run, or its batch's answer budget
	// was spent. Counting by Method only when Registered keeps a label set
	// bounded by the methods registered, whatever clients send.
	Registered bool
	// ID is the raw JSON id, nil for a notification or when none could be
	// read.
	ID []byte
	// Error is what the request was answered with (for a notification,
	// what it would have been): codec.ErrParse, codec.ErrInvalidRequest,
	// codec.ErrMethodNotFound, ErrCallCancelled, ErrCallTimeout or
	// ErrResponseTooLarge, without the answer's data.
	Error *codec.Error
}

// WithObserver has o told of rejected requests and batch sizes (see
// Observer); several observers are told in the order given. Without one,
// nothing is paid for it.
func WithObserver(o ...Observer) Option {
	return func(e *Engine) { e.observers = append(e.observers, o...) }
}

// reject tells the observers of a request answered without running.
func (e *Engine) reject(ctx context.Context, r *codec.Request, registered bool, ce *codec.Error) {
	for _, o := range e.observers {
		o.ObserveRejected(ctx, Rejection{Method: r.Method, Registered: registered, ID: r.ID, Error: ce})
	}
}

// rejectAll tells the observers of a request rejected before any of it
// could be read as calls: a parse error or a batch over its limit.
func (e *Engine) rejectAll(ctx context.Context, ce *codec.Error) {
	for _, o := range e.observers {
		o.ObserveRejected(ctx, Rejection{Error: ce})
	}
}

// observeBatch tells the observers of a batch's size.
func (e *Engine) observeBatch(items int) {
	for _, o := range e.observers {
		o.ObserveBatch(items)
	}
}

// isRegistered reports whether name names a method of the table.
func (e *Engine) isRegistered(name []byte) bool {
	return (*e.methods.Load())[string(name)] != nil // no allocation: the compiler reads the bytes in place
}

// recovering wraps the innermost handler of a method that has middleware,
// so that a panic becomes the -32603 the client gets before the middleware
// sees the outcome: logging and metrics then count it like any error.
// invoke still recovers panics of the middleware itself.
func (e *Engine) recovering(name string, h Handler) Handler {
	return func(c *Call) (err error) {
		defer func() {
			if p := recover(); p != nil {
				e.logPanic(name, p)
				err = errPanic
			}
		}()
		return h(c)
	}
}

// logPanic logs a handler's panic with its stack.
func (e *Engine) logPanic(name string, p any) {
	e.logger.Error("jetrpc: handler panicked", "method", name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
}
