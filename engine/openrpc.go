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
		if m.resultType != nil {
			om.Result.Schema = schemaOf(m.resultType, map[reflect.Type]bool{})
		}
		switch {
		case m.paramsType != nil && m.paramsType.Kind() == reflect.Struct:
			om.ParamStructure = "either" // by name or by position
			for i, f := range paramFields(m.paramsType) {
				om.Params = append(om.Params, contentDescriptor{
					Name: m.paramNameAt(i, f.name), Schema: schemaOf(f.typ, map[reflect.Type]bool{}), Required: f.required})
			}
		case m.paramsType != nil:
			om.ParamStructure = "by-position"
			if m.paramsType.Kind() == reflect.Map {
				om.ParamStructure = "by-name"
			}
			om.Params = append(om.Params, contentDescriptor{Name: m.paramNameAt(0, "params"), Schema: schemaOf(m.paramsType, map[reflect.Type]bool{})})
		default:
			for _, n := range m.paramNames {
				om.Params = append(om.Params, contentDescriptor{Name: n, Schema: map[string]any{}})
			}
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

// paramNameAt is the name of the i-th param: the ParamNames option's,
// else the field's.
func (m *method) paramNameAt(i int, fallback string) string {
	if i < len(m.paramNames) && m.paramNames[i] != "" {
		return m.paramNames[i]
	}
	return fallback
}

type schemaField struct {
	name     string
	typ      reflect.Type
	required bool
}

// paramFields lists a params struct's fields as the decoder sees them.
func paramFields(t reflect.Type) []schemaField {
	var fields []schemaField
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || (name == "-" && opts == "") {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields = append(fields, schemaField{name, f.Type, f.Type.Kind() != reflect.Pointer && !hasOption(opts, "omitempty")})
	}
	return fields
}

// schemaOf returns the JSON Schema (draft-07 keywords) of what t encodes
// to; seen breaks recursion with an empty schema.
func schemaOf(t reflect.Type, seen map[reflect.Type]bool) map[string]any {
	if t == rawMessageType || t.Kind() == reflect.Interface {
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
		for _, f := range paramFields(t) {
			props[f.name] = schemaOf(f.typ, seen)
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
