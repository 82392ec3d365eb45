package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"unicode"
	"unicode/utf8"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/internal/jsonenc"
)

var (
	contextType  = reflect.TypeFor[context.Context]()
	errorType    = reflect.TypeFor[error]()
	noParamsType = reflect.TypeFor[struct{}]()
)

// RegisterStruct registers every exported method of v, like jsonrpclib's
// register_instance: each under prefix + "." + its name with a lower-case
// first letter (Calc.Add → "calc.add" with prefix "calc"; the name alone
// when prefix is ""). A method may take the shapes the Register functions
// take, with P and R under the same rules:
//
//	func(context.Context, P) (R, error)   func(context.Context) (R, error)
//	func(context.Context, P) error        func(context.Context) error
//
// It registers nothing and fails, naming each method and why, when an
// exported method has another shape (such as Add(a, b int) int) or an
// unsupported P or R; with the SkipUnsupported option it registers the
// others and skips those. opts apply to every method.
//
// Cost: it uses reflection at registration and on every call
// (reflect.Value.Call, a new P, the result through an interface): a few
// allocations per call that the generic Register functions do not make.
// Prefer those for hot methods.
func RegisterStruct(e *Engine, prefix string, v any, opts ...MethodOption) error {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return errors.New("engine: RegisterStruct of nil")
	}
	rt := rv.Type()
	skip := newMethod("", opts).skipUnsupported
	var methods []*method
	var errs []error
	for i := range rt.NumMethod() {
		sm := rt.Method(i)
		r, size := utf8.DecodeRuneInString(sm.Name)
		name := string(unicode.ToLower(r)) + sm.Name[size:]
		if prefix != "" {
			name = prefix + "." + name
		}
		m, err := reflectedMethod(name, rv.Method(i), opts)
		if err != nil {
			if !skip {
				errs = append(errs, fmt.Errorf("%v.%s: %w", rt, sm.Name, err))
			}
			continue
		}
		methods = append(methods, m)
	}
	if len(errs) > 0 {
		return fmt.Errorf("engine: RegisterStruct: %w", errors.Join(errs...))
	}
	if len(methods) == 0 {
		return fmt.Errorf("engine: RegisterStruct: %v has no exported method of a supported shape", rt)
	}
	for _, m := range methods {
		if err := e.add(m); err != nil {
			return err
		}
	}
	return nil
}

// reflectedMethod adapts the method value fn, or says why it cannot.
func reflectedMethod(name string, fn reflect.Value, opts []MethodOption) (*method, error) {
	ft := fn.Type()
	in, out := ft.NumIn(), ft.NumOut()
	if ft.IsVariadic() || in < 1 || in > 2 || ft.In(0) != contextType || out < 1 || out > 2 || ft.Out(out-1) != errorType {
		return nil, fmt.Errorf("%v is not a supported shape: want func(context.Context[, P]) ([R, ]error)", ft)
	}
	m := newMethod(name, opts)
	pt, rt := noParamsType, nullType
	if in == 2 {
		pt = ft.In(1)
	}
	if out == 2 {
		rt = ft.Out(0)
		if err := checkResultType(rt); err != nil {
			return nil, err
		}
	}
	info, err := analyseParams(pt, m.paramNames)
	if err != nil {
		return nil, err
	}
	dec := newParamsDecoderOf(info)
	m.setTypes(info, rt)
	m.handler = func(c *Call) error {
		pv := reflect.New(pt)
		if err := dec.decode(c.req, c.req.Params, pv.UnsafePointer()); err != nil {
			return err
		}
		ctx := c.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		args := []reflect.Value{reflect.ValueOf(ctx)}
		if in == 2 {
			args = append(args, pv.Elem())
		}
		res := fn.Call(args)
		if err, _ := res[len(res)-1].Interface().(error); err != nil {
			return err
		}
		if out == 1 {
			return nil // the engine answers null
		}
		b, err := jsonenc.Append(c.out, res[0].Interface())
		if err != nil {
			return codec.ErrInternal.WithData(err.Error())
		}
		c.out = b
		return nil
	}
	return m, nil
}
