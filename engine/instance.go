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
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// RegisterStruct registers the exported methods of v whose signature is
// func(context.Context, P) (R, error), each under prefix + "." + its name
// with a lower-case first letter (Calc.Add → "calc.add" with prefix
// "calc"), like jsonrpclib's register_instance. P and R follow Register's
// rules. Methods of other shapes are skipped; it fails when none fits, or
// on the first registration that fails. opts apply to every method.
//
// Cost: it uses reflection at registration and on every call
// (reflect.Value.Call, a new P, the result through an interface): a few
// allocations per call that Register[P, R] does not make. Prefer Register
// for hot methods.
func RegisterStruct(e *Engine, prefix string, v any, opts ...MethodOption) error {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return errors.New("engine: RegisterStruct of nil")
	}
	rt := rv.Type()
	registered := 0
	for i := range rt.NumMethod() {
		m := rt.Method(i)
		ft := m.Type // with the receiver as In(0)
		if ft.NumIn() != 3 || ft.In(1) != contextType || ft.NumOut() != 2 || ft.Out(1) != errorType {
			continue
		}
		r, size := utf8.DecodeRuneInString(m.Name)
		name := prefix + "." + string(unicode.ToLower(r)) + m.Name[size:]
		if err := registerReflected(e, name, rv.Method(i), ft.In(2), ft.Out(0), opts); err != nil {
			return err
		}
		registered++
	}
	if registered == 0 {
		return fmt.Errorf("engine: RegisterStruct: %v has no exported method of the form func(context.Context, P) (R, error)", rt)
	}
	return nil
}

// registerReflected registers one method value fn taking a pt and
// returning an rt.
func registerReflected(e *Engine, name string, fn reflect.Value, pt, rt reflect.Type, opts []MethodOption) error {
	dec, err := newParamsDecoderOf(pt)
	if err != nil {
		return fmt.Errorf("engine: method %q: %w", name, err)
	}
	signature, names := signatureOf(pt, rt)
	opts = append([]MethodOption{func(m *method) {
		m.signature, m.paramNames, m.paramsType, m.resultType = signature, names, pt, rt
	}}, opts...)
	return e.RegisterRaw(name, func(c *Call) error {
		pv := reflect.New(pt)
		if err := dec.decode(c.req.Params, pv.UnsafePointer()); err != nil {
			return err
		}
		ctx := c.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		out := fn.Call([]reflect.Value{reflect.ValueOf(ctx), pv.Elem()})
		if err, _ := out[1].Interface().(error); err != nil {
			return err
		}
		res, err := jsonenc.Append(c.out, out[0].Interface())
		if err != nil {
			return codec.ErrInternal.WithData(err.Error())
		}
		c.out = res
		return nil
	}, opts...)
}
