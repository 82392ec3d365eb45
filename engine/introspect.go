package engine

import (
	"context"
	"reflect"
	"slices"

	"github.com/jetrpc/jetrpc/codec"
)

// WithIntrospection registers the introspection methods that
// jsonrpclib-pelix users expect: system.listMethods (the names, sorted),
// system.methodHelp(name) (the description given with Describe) and
// system.methodSignature(name) (jsonrpclib's shape: a list holding
// [result type, param types…], with JSON type names; "undef" for raw
// handlers); and rpc.discover, the OpenRPC document of every method, with
// JSON Schemas generated from the registered Go types, rebuilt at each
// registration and served as pre-encoded bytes. Off by default: a server
// need not describe itself.
func WithIntrospection() Option { return func(e *Engine) { e.introspection = true } }

// WithOpenRPCInfo sets the title and version in rpc.discover's document
// ("jetrpc", "1.0.0" by default).
func WithOpenRPCInfo(title, version string) Option {
	return func(e *Engine) { e.openrpcTitle, e.openrpcVersion = title, version }
}

// nameParam is the params of methodHelp and methodSignature: [name] or
// {"name": name}.
type nameParam struct {
	Name string `json:"name"`
}

var errNoSuchMethod = codec.ErrInvalidParams.WithData("no such method")

func (e *Engine) registerIntrospection() {
	must := func(err error) {
		if err != nil {
			panic("BUG: " + err.Error())
		}
	}
	discover := newMethod("rpc.discover", []MethodOption{Describe("Returns the OpenRPC document of this server.")})
	discover.handler = func(c *Call) error { return c.ResultRaw(*e.openrpc.Load()) }
	must(e.insert(discover))
	must(RegisterNoParams(e, "system.listMethods", func(context.Context) ([]string, error) {
		names := e.Methods()
		slices.Sort(names)
		return names, nil
	}, Describe("Returns the names of the methods this server serves.")))
	must(Register(e, "system.methodHelp", func(_ context.Context, p nameParam) (string, error) {
		m := (*e.methods.Load())[p.Name]
		if m == nil {
			return "", errNoSuchMethod
		}
		return m.help(), nil
	}, Describe("Returns the description of a method, or its synopsis when it has none.")))
	must(Register(e, "system.methodSignature", func(_ context.Context, p nameParam) (any, error) {
		m := (*e.methods.Load())[p.Name]
		if m == nil {
			return nil, errNoSuchMethod
		}
		if m.signature == nil {
			return "undef", nil
		}
		return [][]string{m.signature}, nil
	}, Describe("Returns the signature of a method: [[result type, param types...]].")))
}

// help is what system.methodHelp says of m: its description, else for a
// typed method its synopsis, such as "add(a number, b number) number".
func (m *method) help() string {
	if m.description != "" || m.signature == nil {
		return m.description
	}
	return synopsis(m.name, m.signature, m.names)
}

// jsonType names the JSON type a Go type encodes to.
func jsonType(t reflect.Type) string {
	switch {
	case t == rawMessageType:
		return "any"
	case t == nullType:
		return "null"
	case marshalsAsText(t):
		return "string" // time.Time, net.IP and the like
	case customMarshaler(t):
		return "any"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string" // base64
		}
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Pointer:
		return jsonType(t.Elem())
	}
	return "any"
}

// marshalsAsText reports whether t (or *t) encodes itself as a JSON string
// through encoding.TextMarshaler alone.
func marshalsAsText(t reflect.Type) bool {
	implements := func(i reflect.Type) bool { return t.Implements(i) || reflect.PointerTo(t).Implements(i) }
	return implements(textMarshalerType) && !implements(jsonMarshalerType)
}

// customMarshaler reports whether t (or *t) has its own MarshalJSON.
func customMarshaler(t reflect.Type) bool {
	return t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType)
}
