package engine

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// field is one JSON member of a struct, as encoding/json sees it: the one
// analysis of a struct type from which the params decoder, the method
// signature, the help text and the OpenRPC schema are all derived, so that
// they cannot disagree.
type field struct {
	name   string       // the JSON name: the tag's, else the Go name
	goName string       // the Go name, for messages
	typ    reflect.Type // the field's type
	// offset is the field's offset from the start of the outer struct,
	// through embedded structs; it is meaningless when viaPointer.
	offset uintptr
	// viaPointer marks a field promoted through an embedded pointer: go-json
	// reaches it by allocating the embedded struct, jetrpc's decoder cannot.
	viaPointer bool
	omitempty  bool
	quoted     bool // `json:",string"` on a bool, number or string field
	// required: the decoder answers -32602 when the field is missing. Every
	// field is, unless it is a pointer or tagged omitempty.
	required bool
}

// jsonType names the JSON type of the field's encoding, for signatures.
func (f *field) jsonType() string {
	if f.quoted {
		return "string"
	}
	return jsonType(f.typ)
}

// structFields returns the JSON members of struct type t in encoding/json's
// order and by its rules: `json:"-"` skips a field, `json:"-,"` names it
// "-", a tag renames, omitempty and string are honoured, unexported fields
// are skipped, and the exported fields of embedded structs are promoted
// (an embedded struct with a tag name is one member instead). Where
// encoding/json silently drops two members of one name at the same depth,
// this fails, naming both. It runs at registration.
func structFields(t reflect.Type) ([]field, error) {
	type found struct {
		field
		index  []int  // the Go field index path, for order and depth
		path   string // the Go path, such as Inner.Field, for messages
		tagged bool
	}
	var all []found
	type level struct {
		t          reflect.Type
		index      []int
		offset     uintptr
		viaPointer bool
		prefix     string // the Go path to this level, such as "Inner."
	}
	visited := map[reflect.Type]bool{}
	next := []level{{t: t}}
	for len(next) > 0 {
		current := next
		next = nil
		for _, l := range current {
			if visited[l.t] {
				continue // an embedding cycle through pointers
			}
			visited[l.t] = true
			for i := range l.t.NumField() {
				sf := l.t.Field(i)
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				ft := sf.Type
				if sf.Anonymous {
					et := ft
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue // an unexported non-struct embedding is not encoded
					}
					if name == "" && et.Kind() == reflect.Struct {
						if !sf.IsExported() && ft.Kind() == reflect.Pointer {
							continue // encoding/json cannot set it: skipped
						}
						next = append(next, level{t: et, index: append(slices.Clip(l.index), i), offset: l.offset + sf.Offset,
							viaPointer: l.viaPointer || ft.Kind() == reflect.Pointer, prefix: l.prefix + et.Name() + "."})
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				f := found{index: append(slices.Clip(l.index), i), path: l.prefix + sf.Name, tagged: name != ""}
				f.name, f.goName, f.typ = name, sf.Name, ft
				if f.name == "" {
					f.name = sf.Name
				}
				f.offset, f.viaPointer = l.offset+sf.Offset, l.viaPointer
				f.omitempty = hasOption(opts, "omitempty")
				f.quoted = hasOption(opts, "string") && quotable(ft)
				f.required = ft.Kind() != reflect.Pointer && !f.omitempty
				all = append(all, f)
			}
		}
	}
	// Dominance, as in encoding/json: of the members sharing a name, the
	// shallowest wins, a tagged one over untagged ones at its depth.
	byName := map[string][]int{}
	for i := range all {
		byName[all[i].name] = append(byName[all[i].name], i)
	}
	keep := make([]bool, len(all))
	for name, idx := range byName {
		depth := len(all[idx[0]].index)
		var top []int
		for _, i := range idx {
			switch d := len(all[i].index); {
			case d < depth:
				depth, top = d, []int{i}
			case d == depth:
				top = append(top, i)
			}
		}
		if len(top) > 1 {
			var tagged []int
			for _, i := range top {
				if all[i].tagged {
					tagged = append(tagged, i)
				}
			}
			if len(tagged) != 1 {
				return nil, fmt.Errorf("%v: fields %s and %s are both named %q at the same depth", t, all[top[0]].path, all[top[1]].path, name)
			}
			top = tagged
		}
		keep[top[0]] = true
	}
	kept := make([]found, 0, len(all))
	for i := range all {
		if keep[i] {
			kept = append(kept, all[i])
		}
	}
	slices.SortFunc(kept, func(a, b found) int { return slices.Compare(a.index, b.index) })
	fields := make([]field, len(kept))
	for i := range kept {
		fields[i] = kept[i].field
	}
	return fields, nil
}

// quotable reports whether `json:",string"` applies to t, as in
// encoding/json: booleans, numbers and strings (not through pointers).
func quotable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String:
		return true
	}
	return false
}

func hasOption(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

// paramsShape says how a params type takes its params.
type paramsShape uint8

const (
	shapeStruct paramsShape = iota // by name or by position, field by field
	shapeArray                     // slice or array: by position, whole
	shapeObject                    // map: by name, whole
	shapeScalar                    // one value: [v], or {"name": v} with a name
)

// paramsInfo is the one analysis of a params type P, made at
// registration: what the decoder fills, what the signature, the help and
// the OpenRPC document say.
type paramsInfo struct {
	typ reflect.Type // P itself
	// elem is the type decoded: P, or what P points to.
	elem  reflect.Type
	shape paramsShape
	// pointer: P is a pointer; absent params leave it nil, and any params
	// are decoded into a new value (one allocation: the handler may keep it).
	pointer bool
	fields  []field // shapeStruct: the members, in order
	// name is a scalar's name for params by name (ParamNames' first), or "".
	name string
	// names are the names ParamNames gave a slice, array or map P, for
	// documentation only.
	names []string
}

// analyseParams analyses P (the type t) once, with the names the
// ParamNames option gave. It fails, naming the type and why, on what it
// cannot decode.
func analyseParams(t reflect.Type, names []string) (*paramsInfo, error) {
	info := &paramsInfo{typ: t, elem: t}
	if t.Kind() == reflect.Pointer {
		info.pointer, info.elem = true, t.Elem()
		if info.elem.Kind() == reflect.Pointer {
			return nil, fmt.Errorf("params type %v: a pointer to a pointer is not supported", t)
		}
	}
	e := info.elem
	switch {
	case customUnmarshaler(e) || e == rawMessageType:
		info.shape = shapeScalar
	default:
		switch e.Kind() {
		case reflect.Struct:
			info.shape = shapeStruct
		case reflect.Slice, reflect.Array:
			info.shape = shapeArray
		case reflect.Map:
			info.shape = shapeObject
		case reflect.Bool, reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
			info.shape = shapeScalar
		case reflect.Interface:
			return nil, fmt.Errorf("params type %v: an interface says nothing to decode into; take json.RawMessage for raw params, or a struct", t)
		default:
			return nil, fmt.Errorf("params type %v: a %v cannot hold JSON params; take a struct, a slice, an array, a map or a scalar", t, e.Kind())
		}
	}
	switch info.shape {
	case shapeStruct:
		if len(names) > 0 {
			return nil, fmt.Errorf("params type %v: ParamNames names a struct's params, which its fields already name (use json tags)", t)
		}
		fields, err := structFields(e)
		if err != nil {
			return nil, fmt.Errorf("params type %w", err)
		}
		for _, f := range fields {
			if f.viaPointer {
				return nil, fmt.Errorf("params type %v: field %s is promoted through an embedded pointer; embed the struct itself", t, f.goName)
			}
		}
		if len(fields) > maxParamFields {
			return nil, fmt.Errorf("params type %v has %d fields, more than %d", t, len(fields), maxParamFields)
		}
		info.fields = fields
	case shapeScalar:
		if len(names) > 1 {
			return nil, fmt.Errorf("params type %v is one value: ParamNames gives it %d names", t, len(names))
		}
		if len(names) == 1 {
			info.name = names[0]
		}
	default:
		info.names = names
	}
	return info, nil
}

// customUnmarshaler reports whether *t decodes itself (json.Unmarshaler or
// encoding.TextUnmarshaler), as time.Time does.
func customUnmarshaler(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType)
}

// signature returns jsonrpclib's method signature, [result type, param
// types…], and the params' names.
func (info *paramsInfo) signature(result reflect.Type) (signature, names []string) {
	signature = []string{jsonType(result)}
	switch info.shape {
	case shapeStruct:
		for i := range info.fields {
			signature = append(signature, info.fields[i].jsonType())
			names = append(names, info.fields[i].name)
		}
	case shapeScalar:
		signature = append(signature, jsonType(info.elem))
		if info.name != "" {
			names = []string{info.name}
		}
	default:
		signature = append(signature, jsonType(info.elem))
		names = info.names
	}
	return signature, names
}

// synopsis is a one-line description of the method's call, such as
// "add(a number, b number) number", for system.methodHelp of a method
// registered without a description.
func synopsis(name string, signature, names []string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('(')
	for i, typ := range signature[1:] {
		if i > 0 {
			b.WriteString(", ")
		}
		if i < len(names) {
			b.WriteString(names[i])
			b.WriteByte(' ')
		}
		b.WriteString(typ)
	}
	b.WriteString(") ")
	b.WriteString(signature[0])
	return b.String()
}
