package engine

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
)

// OpenRPCVersion is the OpenRPC specification version rpc.discover
// documents follow.
const OpenRPCVersion = "1.3.2"

// The parts of an OpenRPC document jetrpc writes.
type (
	openrpcDocument struct {
		OpenRPC string          `json:"openrpc"`
		Info    openrpcInfo     `json:"info"`
		Methods []openrpcMethod `json:"methods"`
	}
	openrpcInfo struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	}
	openrpcMethod struct {
		Name           string              `json:"name"`
		Description    string              `json:"description,omitempty"`
		Params         []contentDescriptor `json:"params"`
		Result         contentDescriptor   `json:"result"`
		ParamStructure string              `json:"paramStructure,omitempty"`
	}
	contentDescriptor struct {
		Name     string         `json:"name"`
		Schema   map[string]any `json:"schema"`
		Required bool           `json:"required,omitempty"`
	}
)

// buildOpenRPC encodes the OpenRPC document of the methods in table. It
// runs at registration, not per call.
func buildOpenRPC(table map[string]*method, title, version string) []byte {
	doc := openrpcDocument{OpenRPC: OpenRPCVersion, Info: openrpcInfo{Title: title, Version: version}, Methods: []openrpcMethod{}}
	for _, m := range table {
		if m.name == "rpc.discover" {
			continue // implied by the specification
		}
		om := openrpcMethod{Name: m.name, Description: m.description, Params: []contentDescriptor{},
			Result: contentDescriptor{Name: "result", Schema: map[string]any{}}}
		if m.result != nil {
			om.Result.Schema = schemaOf(m.result, map[reflect.Type]bool{})
		}
		switch p := m.params; {
		case p == nil: // a raw handler: names only
			for _, n := range m.paramNames {
				om.Params = append(om.Params, contentDescriptor{Name: n, Schema: map[string]any{}})
			}
		case p.shape == shapeStruct:
			om.ParamStructure = "either" // by name or by position
			for i := range p.fields {
				f := &p.fields[i]
				om.Params = append(om.Params, contentDescriptor{Name: f.name, Schema: fieldSchema(f, map[reflect.Type]bool{}), Required: f.required})
			}
		case p.shape == shapeScalar:
			om.ParamStructure = "by-position"
			name := "value"
			if p.name != "" {
				om.ParamStructure, name = "either", p.name
			}
			om.Params = append(om.Params, contentDescriptor{Name: name, Schema: schemaOf(p.elem, map[reflect.Type]bool{}), Required: !p.pointer})
		default:
			om.ParamStructure = "by-position"
			if p.shape == shapeObject {
				om.ParamStructure = "by-name"
			}
			name := "params"
			if len(p.names) > 0 {
				name = p.names[0]
			}
			om.Params = append(om.Params, contentDescriptor{Name: name, Schema: schemaOf(p.elem, map[reflect.Type]bool{})})
		}
		doc.Methods = append(doc.Methods, om)
	}
	slices.SortFunc(doc.Methods, func(a, b openrpcMethod) int { return strings.Compare(a.Name, b.Name) })
	b, err := json.Marshal(doc)
	if err != nil {
		panic("BUG: OpenRPC document does not encode: " + err.Error())
	}
	return b
}

// fieldSchema is the schema of one struct member: a string for a quoted
// one (`json:",string"`), its type's otherwise.
func fieldSchema(f *field, seen map[reflect.Type]bool) map[string]any {
	if f.quoted {
		return map[string]any{"type": "string"}
	}
	return schemaOf(f.typ, seen)
}

// schemaOf returns the JSON Schema (draft-07 keywords) of what t encodes
// to; seen breaks recursion with an empty schema.
func schemaOf(t reflect.Type, seen map[reflect.Type]bool) map[string]any {
	switch {
	case t == nullType:
		return map[string]any{"type": "null"}
	case t == rawMessageType || t.Kind() == reflect.Interface:
		return map[string]any{}
	case marshalsAsText(t):
		return map[string]any{"type": "string"}
	case customMarshaler(t):
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Pointer:
		return schemaOf(t.Elem(), seen)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), seen)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), seen)}
	case reflect.Struct:
		if seen[t] {
			return map[string]any{} // a recursive type: not expanded again
		}
		seen[t] = true
		defer delete(seen, t)
		props := map[string]any{}
		required := []string{}
		fields, err := structFields(t)
		if err != nil {
			return map[string]any{} // go-json decides what such a type holds
		}
		for i := range fields {
			f := &fields[i]
			props[f.name] = fieldSchema(f, seen)
			if f.required {
				required = append(required, f.name)
			}
		}
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]any{}
}
