package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"time"
	"unsafe"
)

// method is an entry of the method table: a handler adapted once, at
// registration, to the raw form.
type method struct {
	name        string
	handler     Handler
	middleware  []Middleware
	timeout     time.Duration
	description string
	paramNames  []string
	signature   []string // [result type, param types…]; nil for raw handlers
	// paramsType and resultType are P and R of a typed method, for the
	// OpenRPC document; nil for raw handlers.
	paramsType, resultType reflect.Type
}

// MethodOption configures one method at registration.
type MethodOption func(*method)

// Middleware wraps a method's Handler, for logging, auth, metrics and the
// like. Middleware is composed with the handler once, at registration: a
// call then pays only for what the middleware itself does, and an engine
// without middleware runs its handlers directly.
type Middleware func(next Handler) Handler

// Use wraps one method in middleware, the first outermost, inside the
// engine's global middleware (WithMiddleware).
func Use(mw ...Middleware) MethodOption {
	return func(m *method) { m.middleware = append(m.middleware, mw...) }
}

// Timeout bounds the method's calls, overriding WithCallTimeout: at the
// deadline the call's context is cancelled and it is answered with
// ErrCallTimeout.
func Timeout(d time.Duration) MethodOption { return func(m *method) { m.timeout = d } }

// Describe sets the method's description, for introspection.
func Describe(description string) MethodOption {
	return func(m *method) { m.description = description }
}

// ParamNames names the method's parameters in order, for introspection of
// methods whose params type does not name them (slices, raw handlers).
func ParamNames(names ...string) MethodOption { return func(m *method) { m.paramNames = names } }

// ErrReservedName is returned for a method name in the "rpc." namespace,
// which the JSON-RPC 2.0 specification reserves for the protocol itself.
var ErrReservedName = errors.New(`engine: method names starting with "rpc." are reserved`)

// ErrDuplicateMethod is returned when a name is registered twice.
var ErrDuplicateMethod = errors.New("engine: method already registered")

// RegisterRaw registers h under name, with options. Method names are
// case-sensitive. It fails on an empty name, a name in the reserved "rpc."
// namespace, a nil handler, or a name already registered. It copies the
// method table: register at start-up, not per request.
func (e *Engine) RegisterRaw(name string, h Handler, opts ...MethodOption) error {
	if strings.HasPrefix(name, "rpc.") {
		return fmt.Errorf("%w: %q", ErrReservedName, name)
	}
	return e.register(name, h, opts)
}

// register adds a method; only the engine itself registers "rpc." names.
func (e *Engine) register(name string, h Handler, opts []MethodOption) error {
	if name == "" {
		return errors.New("engine: empty method name")
	}
	if h == nil {
		return fmt.Errorf("engine: method %q: nil handler", name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old := *e.methods.Load()
	if _, ok := old[name]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicateMethod, name)
	}
	m := &method{name: name, handler: h}
	for _, o := range opts {
		o(m)
	}
	// Compose once: the method's own middleware inside the global one.
	for i := len(m.middleware) - 1; i >= 0; i-- {
		m.handler = m.middleware[i](m.handler)
	}
	for i := len(e.middleware) - 1; i >= 0; i-- {
		m.handler = e.middleware[i](m.handler)
	}
	table := maps.Clone(old)
	table[name] = m
	if e.introspection {
		doc := buildOpenRPC(table, e.openrpcTitle, e.openrpcVersion)
		e.openrpc.Store(&doc)
	}
	e.methods.Store(&table)
	return nil
}

// Methods returns the registered method names, in no particular order.
func (e *Engine) Methods() []string {
	table := *e.methods.Load()
	names := make([]string, 0, len(table))
	for name := range table {
		names = append(names, name)
	}
	return names
}

// Register registers fn under name as a typed method: the request's params
// are decoded into a P and fn's R is encoded as the result.
//
// P is a struct, a slice, an array or a map; struct{} takes no params.
// For a struct, params by name (an object) fill the fields by their JSON
// names (`json` tags, matched exactly, then case-insensitively, as
// encoding/json does; unknown names are ignored) and params by position (an
// array) fill the exported fields in declaration order. Every field is
// required unless it is a pointer or tagged `json:",omitempty"`; a missing
// one, a surplus element or a value of the wrong type answers -32602 with
// the reason in data. A slice or array P takes params by position only, a
// map P by name only.
//
// Fields of type json.RawMessage receive the raw params bytes without a
// copy: they are valid until fn returns (copy them to keep them).
// Strings are copies. Booleans, numbers, strings and raw fields are
// decoded by jetrpc without allocating beyond the string; other types go
// through go-json.
//
// R is encoded without HTML escaping; booleans, numbers, strings and
// json.RawMessage (checked to be valid JSON) are appended directly, other
// types are encoded by go-json.
//
// The work on types happens here, once, with reflection; a call uses none.
// A typed call with plain P and R allocates nothing (see allocation_test.go).
func Register[P, R any](e *Engine, name string, fn func(context.Context, P) (R, error), opts ...MethodOption) error {
	if fn == nil {
		return fmt.Errorf("engine: method %q: nil function", name)
	}
	dec, err := newParamsDecoder[P]()
	if err != nil {
		return fmt.Errorf("engine: method %q: %w", name, err)
	}
	enc, err := newResultEncoder[R]()
	if err != nil {
		return fmt.Errorf("engine: method %q: %w", name, err)
	}
	// The decoded params live in a slot of the pooled Call, not on the
	// stack: handing a pointer to go-json or to field decoders would move
	// a local P to the heap.
	e.mu.Lock()
	idx := e.slots
	e.slots++
	e.mu.Unlock()
	pt, rt := reflect.TypeFor[P](), reflect.TypeFor[R]()
	signature, names := signatureOf(pt, rt)
	opts = append([]MethodOption{func(m *method) {
		m.signature, m.paramNames, m.paramsType, m.resultType = signature, names, pt, rt
	}}, opts...)
	return e.RegisterRaw(name, func(c *Call) error {
		p := slot[P](c, idx)
		defer func() {
			var zero P
			*p = zero // drop references to this call's params
		}()
		if err := dec.decode(c.req.Params, unsafe.Pointer(p)); err != nil {
			return err
		}
		r, err := fn(c.ctx, *p)
		if err != nil {
			return err
		}
		if enc.kind == resultRaw {
			// An echoed params value was validated by the parser: skip the
			// second pass (a third of the time of a 1 MiB echo).
			if raw := *(*json.RawMessage)(unsafe.Pointer(&r)); dec.isParamValue(unsafe.Pointer(p), raw) {
				c.out = append(c.out, raw...)
				return nil
			}
		}
		c.out, err = enc.append(c.out, &r)
		return err
	}, opts...)
}
