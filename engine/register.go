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
// registration, to the raw form, and what introspection says of it.
type method struct {
	name        string
	handler     Handler
	middleware  []Middleware
	timeout     time.Duration
	description string
	paramNames  []string
	// skipUnsupported is RegisterStruct's SkipUnsupported.
	skipUnsupported bool
	// params and result are the analysis of P and the type R of a typed
	// method; nil for raw handlers. signature and names derive from them.
	params           *paramsInfo
	result           reflect.Type
	signature, names []string
}

// MethodOption configures one method at registration: Describe,
// ParamNames, Timeout, Use, and SkipUnsupported for RegisterStruct.
type MethodOption struct {
	apply func(*method)
}

// Middleware wraps a method's Handler, for logging, auth, metrics and the
// like. Middleware is composed with the handler once, at registration: a
// call then pays only for what the middleware itself does, and an engine
// without middleware runs its handlers directly. It is called once per
// method registered, so what the Handler it returns captures belongs to
// that one method (a per-method cache, say). A panic in the method reaches
// the middleware as the error the client gets (ErrorOf gives -32603).
// Requests that never reach a method are seen by an Observer instead.
type Middleware func(next Handler) Handler

// Use wraps one method in middleware, the first outermost, inside the
// engine's global middleware (WithMiddleware).
func Use(mw ...Middleware) MethodOption {
	return MethodOption{func(m *method) { m.middleware = append(m.middleware, mw...) }}
}

// Timeout bounds the method's calls, overriding WithCallTimeout: at the
// deadline the call's context is cancelled and it is answered with
// ErrCallTimeout.
func Timeout(d time.Duration) MethodOption { return MethodOption{func(m *method) { m.timeout = d }} }

// Describe sets the method's description, for introspection
// (system.methodHelp, rpc.discover).
func Describe(description string) MethodOption {
	return MethodOption{func(m *method) { m.description = description }}
}

// ParamNames names the params of a method whose params type does not name
// them: a scalar P (one name, which also lets it take {"name": v}), a
// slice, array or map P, or a raw handler (documentation only). A struct P
// is named by its fields; ParamNames on it fails the registration.
func ParamNames(names ...string) MethodOption {
	return MethodOption{func(m *method) { m.paramNames = names }}
}

// SkipUnsupported makes RegisterStruct skip the exported methods whose
// shape it cannot register, instead of failing; other registrations
// ignore it.
func SkipUnsupported() MethodOption {
	return MethodOption{func(m *method) { m.skipUnsupported = true }}
}

// newMethod returns a method named name configured by opts.
func newMethod(name string, opts []MethodOption) *method {
	m := &method{name: name}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(m)
		}
	}
	return m
}

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
	if h == nil {
		return fmt.Errorf("engine: method %q: nil handler", name)
	}
	m := newMethod(name, opts)
	m.handler = h
	return e.add(m)
}

// add checks m's name and enters it in the table; only the engine itself
// adds "rpc." names (through insert).
func (e *Engine) add(m *method) error {
	if strings.HasPrefix(m.name, "rpc.") {
		return fmt.Errorf("%w: %q", ErrReservedName, m.name)
	}
	return e.insert(m)
}

// insert composes m's middleware and enters it in a copy of the table.
func (e *Engine) insert(m *method) error {
	if m.name == "" {
		return errors.New("engine: empty method name")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old := *e.methods.Load()
	if _, ok := old[m.name]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicateMethod, m.name)
	}
	// Compose once: the method's own middleware inside the global one,
	// around a recover that lets the middleware see a panic as -32603.
	if len(m.middleware)+len(e.middleware) > 0 {
		m.handler = e.recovering(m.name, m.handler)
	}
	for i := len(m.middleware) - 1; i >= 0; i-- {
		m.handler = m.middleware[i](m.handler)
	}
	for i := len(e.middleware) - 1; i >= 0; i-- {
		m.handler = e.middleware[i](m.handler)
	}
	table := maps.Clone(old)
	table[m.name] = m
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
// are decoded into a P and fn's R is encoded as the result. The other
// shapes of handler have their own entry points: RegisterNoParams
// (func(ctx) (R, error)), RegisterNoResult (func(ctx, P) error, result
// null) and RegisterNoParamsNoResult (func(ctx) error).
//
// P is one of:
//   - a struct: params by name (an object) fill the fields by their JSON
//     names (`json` tags as encoding/json reads them, embedded structs
//     promoted; matched exactly, then case-insensitively; unknown names are
//     ignored), params by position (an array) fill the fields in
//     declaration order. Every field is required unless it is a pointer or
//     tagged omitempty; struct{} takes no params.
//   - a slice or an array: params by position, decoded whole; a map:
//     params by name, decoded whole.
//   - a scalar (string, bool, a number, json.RawMessage, or a type with
//     its own UnmarshalJSON or UnmarshalText): one param, [v], or
//     {"name": v} when ParamNames gives its name.
//   - a pointer to any of these: nil when the request has no params,
//     otherwise a new value per call (one allocation, as the handler may
//     keep it).
//
// A missing param, a surplus element or a value of the wrong type answers
// -32602 with the reason in data. Registration fails, naming the type and
// why, for a P it cannot decode into (an interface, a channel, a
// function…) or an R it cannot encode.
//
// Fields of type json.RawMessage receive the raw params bytes without a
// copy: they are valid until fn returns (copy them to keep them).
// Strings are copies. Booleans, numbers, strings and raw values are
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
	return registerTyped(e, name, fn, opts)
}

// RegisterNoParams registers fn, which takes no params, under name: a
// request may send none, [] or {} (unknown names are ignored, as for a
// struct P). See Register for R and the costs, which are the same.
func RegisterNoParams[R any](e *Engine, name string, fn func(context.Context) (R, error), opts ...MethodOption) error {
	if fn == nil {
		return fmt.Errorf("engine: method %q: nil function", name)
	}
	return registerTyped(e, name, func(ctx context.Context, _ struct{}) (R, error) { return fn(ctx) }, opts)
}

// RegisterNoResult registers fn, whose result is null, under name. See
// Register for P and the costs, which are the same.
func RegisterNoResult[P any](e *Engine, name string, fn func(context.Context, P) error, opts ...MethodOption) error {
	if fn == nil {
		return fmt.Errorf("engine: method %q: nil function", name)
	}
	return registerTyped(e, name, func(ctx context.Context, p P) (null, error) { return null{}, fn(ctx, p) }, opts)
}

// RegisterNoParamsNoResult registers fn, which takes no params and whose
// result is null, under name.
func RegisterNoParamsNoResult(e *Engine, name string, fn func(context.Context) error, opts ...MethodOption) error {
	if fn == nil {
		return fmt.Errorf("engine: method %q: nil function", name)
	}
	return registerTyped(e, name, func(ctx context.Context, _ struct{}) (null, error) { return null{}, fn(ctx) }, opts)
}

// null is the result type of handlers without one: it encodes as null.
type null struct{}

var nullType = reflect.TypeFor[null]()

// registerTyped adapts fn to a raw Handler, once.
func registerTyped[P, R any](e *Engine, name string, fn func(context.Context, P) (R, error), opts []MethodOption) error {
	m := newMethod(name, opts)
	info, err := analyseParams(reflect.TypeFor[P](), m.paramNames)
	if err != nil {
		return fmt.Errorf("engine: method %q: %w", name, err)
	}
	enc, err := newResultEncoder[R]()
	if err != nil {
		return fmt.Errorf("engine: method %q: %w", name, err)
	}
	dec := newParamsDecoder[P](info)
	m.setTypes(info, reflect.TypeFor[R]())
	// The decoded params live in a slot of the pooled Call, not on the
	// stack: handing a pointer to go-json or to field decoders would move
	// a local P to the heap.
	e.mu.Lock()
	idx := e.slots
	e.slots++
	e.mu.Unlock()
	m.handler = func(c *Call) error {
		p := slot[P](c, idx)
		defer func() {
			var zero P
			*p = zero // drop references to this call's params
		}()
		if err := dec.decode(c.req, c.req.Params, unsafe.Pointer(p)); err != nil {
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
	}
	return e.add(m)
}

// setTypes records the analysis of a typed method's P and its R, and the
// signature derived from them.
func (m *method) setTypes(params *paramsInfo, result reflect.Type) {
	m.params, m.result = params, result
	m.signature, m.names = params.signature(result)
}
