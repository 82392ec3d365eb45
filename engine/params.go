package engine

import (
	"bytes"
	"encoding"
	stdjson "encoding/json"
	"fmt"
	"math/bits"
	"reflect"
	"strconv"
	"strings"
	"unsafe"

	"github.com/goccy/go-json"
	"github.com/jetrpc/jetrpc/codec"
)

// maxParamFields bounds the fields of a params struct, so that the set of
// fields seen fits in a fixed bitmap on the stack.
const maxParamFields = 256

// paramsDecoder decodes raw params into a P, as its paramsInfo says. It
// is built once per method.
type paramsDecoder struct {
	info *paramsInfo
	// shape and pointer are info's, copied: a call reads them without a
	// second load.
	shape   paramsShape
	pointer bool
	// decodeWhole decodes a slice, array or map value with go-json.
	decodeWhole func(params []byte, p unsafe.Pointer) error
	fields      []paramField // shapeStruct
	byName      map[string]int
	scalar      leafDecoder // shapeScalar
	// rawOffsets are the offsets of the json.RawMessage fields (or 0 for a
	// json.RawMessage P): their values are sub-slices of params the codec
	// has validated.
	rawOffsets []uintptr
	// required has bit k set when field k is required (structs of up to
	// 64 fields).
	required uint64
	// integers says that every field is a float64, int64 or int (see
	// decodeIntegers), and that there are at most 64.
	integers bool
}

// paramField is one member of a params struct, with its decoder.
type paramField struct {
	name     string
	plain    bool // name holds no backslash: a raw key equal to it is it
	offset   uintptr
	required bool
	decode   leafDecoder
	number   numberKind // for decodeIntegers
}

// numberKind names the field types decodeIntegers stores into.
type numberKind uint8

const (
	notNumber numberKind = iota
	numberFloat64
	numberInt64
)

// numberKindOf returns the numberKind of a field of type t, which
// decodeIntegers may fill: exactly float64, int64 or a 64-bit int (not a
// named type, which may have its own unmarshaler), not ",string".
func numberKindOf(t reflect.Type, quoted bool) numberKind {
	switch {
	case quoted:
		return notNumber
	case t == reflect.TypeFor[float64]():
		return numberFloat64
	case t == reflect.TypeFor[int64](), t == reflect.TypeFor[int]() && bits.UintSize == 64:
		return numberInt64
	}
	return notNumber
}

// leafDecoder decodes the raw JSON value v into the field at p.
type leafDecoder func(v []byte, p unsafe.Pointer) error

var (
	rawMessageType      = reflect.TypeFor[stdjson.RawMessage]()
	jsonUnmarshalerType = reflect.TypeFor[stdjson.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func newParamsDecoder[P any](info *paramsInfo) *paramsDecoder {
	d := newParamsDecoderOf(info)
	if !info.pointer {
		// UnmarshalOf decodes into the value in place, without allocating for plain types.
		d.decodeWhole = func(params []byte, p unsafe.Pointer) error { return json.UnmarshalOf(params, (*P)(p)) }
	}
	return d
}

// newParamsDecoderOf builds the decoder info describes, with reflection
// (no generic fast path for slices, arrays and maps: go-json through an
// interface).
func newParamsDecoderOf(info *paramsInfo) *paramsDecoder {
	t := info.elem
	d := &paramsDecoder{info: info, shape: info.shape, pointer: info.pointer, decodeWhole: func(params []byte, p unsafe.Pointer) error {
		return json.Unmarshal(params, reflect.NewAt(t, p).Interface())
	}}
	switch info.shape {
	case shapeScalar:
		d.scalar = leafFor(t, false)
		if t == rawMessageType && !info.pointer {
			d.rawOffsets = []uintptr{0}
		}
	case shapeStruct:
		d.byName = map[string]int{}
		d.integers = len(info.fields) <= 64
		for _, f := range info.fields {
			if f.required && len(d.fields) < 64 {
				d.required |= 1 << len(d.fields)
			}
			d.byName[f.name] = len(d.fields)
			number := numberKindOf(f.typ, f.quoted)
			d.integers = d.integers && number != notNumber
			d.fields = append(d.fields, paramField{name: f.name, plain: !strings.Contains(f.name, `\`), offset: f.offset, required: f.required, decode: leafFor(f.typ, f.quoted), number: number})
			if f.typ == rawMessageType && !info.pointer {
				d.rawOffsets = append(d.rawOffsets, f.offset)
			}
		}
	}
	return d
}

// invalidParams returns a -32602 error whose data is the formatted reason.
// Only the error path calls it, so it may allocate.
func invalidParams(format string, args ...any) error {
	return codec.ErrInvalidParams.WithData(fmt.Sprintf(format, args...))
}

// decode fills *p, a P, from params, which the codec has validated: r's
// when r is not nil, whose recorded end of a long first element spares a
// second scan of it (see codec.Iter.ResetParams). The
// common case, a struct P, goes straight to decodeStruct: the shape switch
// behind an extra call cost a batch of ten adds 2 % (benchstat).
func (d *paramsDecoder) decode(r *codec.Request, params []byte, p unsafe.Pointer) error {
	if d.shape == shapeStruct && !d.pointer {
		return d.decodeStruct(r, params, p)
	}
	return d.decodeOther(r, params, p)
}

// decodeOther is decode for the other shapes and pointers.
func (d *paramsDecoder) decodeOther(r *codec.Request, params []byte, p unsafe.Pointer) error {
	if !d.pointer {
		return d.decodeElem(r, params, p)
	}
	if len(params) == 0 {
		return nil // absent params leave a pointer P nil
	}
	// A new value each call: the handler may keep the pointer it gets.
	elem := reflect.New(d.info.elem).UnsafePointer()
	if err := d.decodeElem(r, params, elem); err != nil {
		return err
	}
	*(*unsafe.Pointer)(p) = elem
	return nil
}

// decodeElem fills the value at p, of the decoded type, from params.
func (d *paramsDecoder) decodeElem(r *codec.Request, params []byte, p unsafe.Pointer) error {
	switch d.shape {
	case shapeStruct:
		return d.decodeStruct(r, params, p)
	case shapeScalar:
		return d.decodeScalar(r, params, p)
	case shapeArray:
		if len(params) > 0 && params[0] != '[' {
			return invalidParams("params must be an array")
		}
	case shapeObject:
		if len(params) > 0 && params[0] != '{' {
			return invalidParams("params must be an object")
		}
	}
	if len(params) == 0 {
		return nil
	}
	if err := d.decodeWhole(params, p); err != nil {
		return invalidParams("%v", err)
	}
	return nil
}

// decodeScalar fills a one-value P from [v], or from {"name": v} when the
// method named its param.
func (d *paramsDecoder) decodeScalar(r *codec.Request, params []byte, p unsafe.Pointer) error {
	name := d.info.name
	var v []byte
	var it codec.Iter // started in place, inlined: see Iter.Reset
	if r != nil {
		it.ResetParams(r)
	} else {
		it.Reset(params)
	}
	if len(params) > 0 && params[0] == '{' {
		if name == "" {
			return invalidParams("params must be an array of one value")
		}
		for it.Next() {
			if key := it.Key(); string(key) == name || d.keyMatches(key, name) {
				v = it.Value()
			}
		}
	} else if len(params) > 0 {
		if it.Next() {
			v = it.Value()
		}
		if it.Next() {
			return invalidParams("too many params: want at most 1, got %d", countElements(params))
		}
	}
	if name == "" {
		name = "value"
	}
	if v == nil {
		return invalidParams("missing param %q", name)
	}
	if err := d.scalar(v, p); err != nil {
		return invalidParams("param %q: %v", name, err)
	}
	return nil
}

// keyMatches reports whether a raw object key that is not name byte for
// byte names it still: escaped, or in another case, as encoding/json
// matches.
func (d *paramsDecoder) keyMatches(key []byte, name string) bool {
	if bytes.IndexByte(key, '\\') >= 0 {
		key = codec.AppendUnescaped(nil, key) // rare: escaped keys cost an allocation
	}
	return strings.EqualFold(string(key), name)
}

func (d *paramsDecoder) decodeStruct(r *codec.Request, params []byte, base unsafe.Pointer) error {
	if d.integers && len(params) > 0 && d.decodeIntegers(params, base) {
		return nil
	}
	var seen [maxParamFields / 64]uint64
	var it codec.Iter // started in place, inlined: see Iter.Reset
	if r != nil {
		it.ResetParams(r)
	} else {
		it.Reset(params)
	}
	for it.Next() {
		k := it.Index()
		if it.IsObject() {
			k = d.fieldByName(it.Key())
			if k < 0 {
				continue // unknown names are ignored, as in encoding/json
			}
		} else if k >= len(d.fields) {
			return invalidParams("too many params: want at most %d, got %d", len(d.fields), countElements(params))
		}
		f := &d.fields[k]
		if err := f.decode(it.Value(), unsafe.Add(base, f.offset)); err != nil {
			return invalidParams("param %q: %v", f.name, err)
		}
		seen[k/64] |= 1 << (k % 64)
	}
	if len(d.fields) <= 64 {
		// The common case: one comparison with the required mask instead
		// of a loop over the fields.
		if missing := d.required &^ seen[0]; missing != 0 {
			return invalidParams("missing param %q", d.fields[bits.TrailingZeros64(missing)].name)
		}
		return nil
	}
	for k := range d.fields {
		if d.fields[k].required && seen[k/64]&(1<<(k%64)) == 0 {
			return invalidParams("missing param %q", d.fields[k].name)
		}
	}
	return nil
}

// decodeIntegers fills the fields, all numbers (d.integers), from params,
// a validated array or object, when its values are integers of up to 15
// digits written plainly, an object's keys name the fields in their order
// without escapes, and no required field is left missing: add(1, 2) and
// add(a=1, b=2), the most common shapes of params, read in one pass
// instead of an Iter's, a key lookup's and a field decoder's (a batch of
// ten adds by position or by name runs ~15 % faster). At anything else it
// reports false, having perhaps written some fields, and decodeStruct
// decodes params the general way, which writes the same values again and
// words any error.
func (d *paramsDecoder) decodeIntegers(data []byte, base unsafe.Pointer) bool {
	if data[0] != '[' && data[0] != '{' {
		return false
	}
	object := data[0] == '{'
	end := data[0] + 2 // '['+2 == ']', '{'+2 == '}'
	var seen uint64
	i := skipSpaces(data, 1)
	for k := 0; k < len(d.fields) && i < len(data); k++ {
		f := &d.fields[k]
		if object {
			// The key, quotes included, must be the field's name, which
			// then names no other field: the general path would pick it.
			j := i + 1 + len(f.name)
			if j >= len(data) || data[i] != '"' || data[j] != '"' || string(data[i+1:j]) != f.name || !f.plain {
				return false
			}
			if i = skipSpaces(data, j+1); i >= len(data) || data[i] != ':' {
				return false
			}
			if i = skipSpaces(data, i+1); i >= len(data) {
				return false
			}
		}
		n, j, ok := leadingInt(data, i)
		if !ok {
			return false
		}
		if i = skipSpaces(data, j); i >= len(data) || data[i] != ',' && data[i] != end { // a fraction or exponent
			return false
		}
		if f.number == numberFloat64 {
			*(*float64)(unsafe.Add(base, f.offset)) = float64(n)
		} else {
			*(*int64)(unsafe.Add(base, f.offset)) = n
		}
		seen |= 1 << k
		if data[i] == end {
			return d.required&^seen == 0
		}
		i = skipSpaces(data, i+1)
	}
	return false // more elements than fields
}

// skipSpaces returns the index of the first byte at or after i that is
// not JSON whitespace, in validated JSON outside strings (where every
// byte up to ' ' is whitespace).
func skipSpaces(data []byte, i int) int {
	for i < len(data) && data[i] <= ' ' {
		i++
	}
	return i
}

// isParamValue reports whether raw is exactly the value of one of p's
// json.RawMessage fields, which the codec validated as one JSON value.
func (d *paramsDecoder) isParamValue(p unsafe.Pointer, raw []byte) bool {
	for _, off := range d.rawOffsets {
		v := *(*stdjson.RawMessage)(unsafe.Add(p, off))
		if len(v) == len(raw) && len(v) > 0 && &v[0] == &raw[0] {
			return true
		}
	}
	return false
}

// fieldByName finds the field for a raw object key: exactly first, then
// without regard to case, as encoding/json matches.
func (d *paramsDecoder) fieldByName(key []byte) int {
	// A struct has a few fields: comparing the key with each name beats
	// hashing it (named adds decode 1.2x faster). A raw key that equals a
	// name without backslashes is that name: it has no escape either.
	if len(d.fields) <= 8 && len(key) > 0 {
		for k := range d.fields {
			// Length and first byte first: most mismatches stop there,
			// without a call to compare memory.
			f := &d.fields[k]
			if len(f.name) == len(key) && f.name[0] == key[0] && f.name == string(key) && f.plain {
				return k
			}
		}
	}
	if bytes.IndexByte(key, '\\') >= 0 {
		key = codec.AppendUnescaped(nil, key) // rare: escaped keys cost an allocation
	}
	if k, ok := d.byName[string(key)]; ok {
		return k
	}
	for k := range d.fields {
		if strings.EqualFold(d.fields[k].name, string(key)) {
			return k
		}
	}
	return -1
}

func countElements(array []byte) int {
	n := 0
	for it := codec.Iterate(array); it.Next(); {
		n++
	}
	return n
}

// leafFor returns the decoder for one field type: jetrpc's own for plain
// kinds, go-json's for the rest (and for types with their own unmarshalers).
func leafFor(t reflect.Type, stringOpt bool) leafDecoder {
	// A type with its own unmarshaler decodes itself, through go-json.
	custom := reflect.PointerTo(t).Implements(jsonUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType)
	switch {
	case t == rawMessageType:
		return decodeRaw
	case custom:
		return goJSONLeaf(t)
	case stringOpt:
		return quotedLeaf(t)
	}
	return plainLeaf(t)
}

// quotedLeaf decodes a field tagged `json:",string"`: a JSON string whose
// contents are the field's encoding, as in encoding/json. It allocates
// only for escaped contents.
func quotedLeaf(t reflect.Type) leafDecoder {
	inner := plainLeaf(t)
	return func(v []byte, p unsafe.Pointer) error {
		switch v[0] {
		case 'n':
			return nil
		case '"':
		default:
			return typeError(v, "string")
		}
		raw := v[1 : len(v)-1]
		if bytes.IndexByte(raw, '\\') >= 0 {
			raw = codec.AppendUnescaped(nil, raw)
		}
		if len(raw) == 0 || !codec.Valid(raw) {
			return fmt.Errorf("cannot use %s as %v", raw, t)
		}
		return inner(raw, p)
	}
}

// plainLeaf returns jetrpc's decoder for the plain kinds, go-json's for
// the rest.
func plainLeaf(t reflect.Type) leafDecoder {
	switch t.Kind() {
	case reflect.Bool:
		return decodeBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intLeaf(t)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintLeaf(t)
	case reflect.Float32, reflect.Float64:
		if t.Kind() == reflect.Float64 {
			return decodeFloat64
		}
		return floatLeaf(t)
	case reflect.String:
		return decodeString
	}
	return goJSONLeaf(t)
}

// float64Leaf is the general decoder of float64 fields, behind decodeFloat64.
var float64Leaf = floatLeaf(reflect.TypeFor[float64]())

// decodeFloat64 decodes a float64 field: small integers, the common case,
// at once, without the general decoder's two indirect calls (a tenth of
// the cost of a typed add).
func decodeFloat64(v []byte, p unsafe.Pointer) error {
	if n, ok := smallInt(v); ok {
		*(*float64)(p) = float64(n)
		return nil
	}
	return float64Leaf(v, p)
}

// kindOf names a raw JSON value's type for error messages.
func kindOf(v []byte) string {
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func typeError(v []byte, want string) error {
	return fmt.Errorf("cannot use %s as %s", kindOf(v), want)
}

func decodeRaw(v []byte, p unsafe.Pointer) error {
	*(*stdjson.RawMessage)(p) = v
	return nil
}

func decodeBool(v []byte, p unsafe.Pointer) error {
	switch v[0] {
	case 't':
		*(*bool)(p) = true
	case 'f':
		*(*bool)(p) = false
	case 'n':
	default:
		return typeError(v, "boolean")
	}
	return nil
}

func decodeString(v []byte, p unsafe.Pointer) error {
	switch v[0] {
	case '"':
		raw := v[1 : len(v)-1]
		if bytes.IndexByte(raw, '\\') < 0 {
			*(*string)(p) = string(raw) // a copy: the handler may keep it
		} else {
			*(*string)(p) = string(codec.AppendUnescaped(nil, raw))
		}
	case 'n':
	default:
		return typeError(v, "string")
	}
	return nil
}

// numberLeaf decodes a JSON number with store, which reports false when
// the number does not fit; null leaves the field as it is. suffix ends the
// error message of a number that does not fit.
func numberLeaf(t reflect.Type, suffix string, store func(v []byte, p unsafe.Pointer, bits int) bool) leafDecoder {
	bits := t.Bits()
	name := t.String()
	return func(v []byte, p unsafe.Pointer) error {
		if v[0] == 'n' {
			return nil
		}
		if kindOf(v) != "number" {
			return typeError(v, name)
		}
		if !store(v, p, bits) {
			return fmt.Errorf("cannot use %s as %s%s", v, name, suffix)
		}
		return nil
	}
}

func intLeaf(t reflect.Type) leafDecoder {
	return numberLeaf(t, "", func(v []byte, p unsafe.Pointer, bits int) bool {
		n, err := strconv.ParseInt(stringOf(v), 10, bits)
		if err == nil {
			storeInt(p, bits, n)
		}
		return err == nil
	})
}

func uintLeaf(t reflect.Type) leafDecoder {
	return numberLeaf(t, "", func(v []byte, p unsafe.Pointer, bits int) bool {
		n, err := strconv.ParseUint(stringOf(v), 10, bits)
		if err == nil {
			storeUint(p, bits, n)
		}
		return err == nil
	})
}

func floatLeaf(t reflect.Type) leafDecoder {
	return numberLeaf(t, ": out of range", func(v []byte, p unsafe.Pointer, bits int) bool {
		f := 0.0
		if n, ok := smallInt(v); ok {
			f = float64(n)
		} else {
			var err error
			if f, err = strconv.ParseFloat(stringOf(v), bits); err != nil {
				return false
			}
		}
		if bits == 32 {
			*(*float32)(p) = float32(f)
		} else {
			*(*float64)(p) = f
		}
		return true
	})
}

// smallInt parses a JSON number that is an integer of at most 15 digits,
// which float64 holds exactly; anything else reports false and takes
// strconv's path. Most numeric params are such integers.
func smallInt(v []byte) (int64, bool) {
	n, end, ok := leadingInt(v, 0)
	return n, ok && end == len(v)
}

// leadingInt parses the integer that starts at data[i], up to the first
// byte that is not a digit, and returns it and the index after it. It
// reports false for no digit, for more than 15 (float64 holds 15 exactly)
// and for -0 (strconv gives a float its sign, as encoding/json does).
// It is written to stay within the inliner's budget (cost 78 of 80):
// decodeIntegers calls it for every value, and a call cost a batch of ten
// adds ~4 %.
func leadingInt(data []byte, i int) (n int64, end int, ok bool) {
	neg := i < len(data) && data[i] == '-'
	if neg {
		i++
	}
	digits := i
	for ; i < len(data) && data[i]-'0' <= 9; i++ {
		n = n*10 + int64(data[i]-'0')
	}
	if uint(i-digits-1) >= 15 { // no digit, or more than 15
		return 0, i, false
	}
	if neg {
		return -n, i, n != 0 // -0 is refused
	}
	return n, i, true
}

// goJSONLeaf decodes with go-json into the field, seen as a value of type t.
func goJSONLeaf(t reflect.Type) leafDecoder {
	return func(v []byte, p unsafe.Pointer) error {
		// NewAt and Interface make an interface holding the pointer p:
		// neither allocates.
		return json.Unmarshal(v, reflect.NewAt(t, p).Interface())
	}
}
