package engine

import (
	"encoding"
	stdjson "encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"sync"
	"unsafe"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/internal/jsonenc"
)

// resultKind says how an R is appended.
type resultKind uint8

const (
	resultGoJSON resultKind = iota
	resultRaw
	resultBool
	resultInt
	resultUint
	resultFloat
	resultString
	resultNull // no result: the engine answers null
)

// resultEncoder appends an R to an answer. It is built once per method.
type resultEncoder[R any] struct {
	kind resultKind
	bits int
	// holders keeps pooled *R for go-json, so that a result handed to the
	// encoder as an interface does not move each R to the heap.
	holders sync.Pool
}

var (
	jsonMarshalerType = reflect.TypeFor[stdjson.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

func newResultEncoder[R any]() (*resultEncoder[R], error) {
	t := reflect.TypeFor[R]()
	enc := &resultEncoder[R]{}
	enc.holders.New = func() any { return new(R) }
	if err := checkResultType(t); err != nil {
		return nil, err
	}
	if t.Kind() == reflect.Interface { // such as any: go-json encodes the dynamic value
		return enc, nil
	}
	if t == nullType {
		enc.kind = resultNull
		return enc, nil
	}
	if t == rawMessageType {
		enc.kind = resultRaw
		return enc, nil
	}
	if t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType) {
		return enc, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		enc.kind = resultBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		enc.kind, enc.bits = resultInt, t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		enc.kind, enc.bits = resultUint, t.Bits()
	case reflect.Float32, reflect.Float64:
		enc.kind, enc.bits = resultFloat, t.Bits()
	case reflect.String:
		enc.kind = resultString
	}
	return enc, nil
}

// checkResultType fails, saying why, for a result type JSON cannot hold.
func checkResultType(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return fmt.Errorf("result type %v: a %v cannot be encoded as JSON", t, t.Kind())
	}
	return nil
}

// Errors of float results JSON cannot hold. Such a result comes from the
// params (add [1e308, 1e308] overflows to +Inf), so it answers -32602
// Invalid params with data that says what happened, not -32603.
var (
	errResultPosInf = codec.ErrInvalidParams.WithData("the result overflows to +Inf, which JSON cannot represent")
	errResultNegInf = codec.ErrInvalidParams.WithData("the result overflows to -Inf, which JSON cannot represent")
	errResultNaN    = codec.ErrInvalidParams.WithData("the result is NaN, which JSON cannot represent")
)

// errNotANumber returns the error for a float result JSON cannot hold, or
// nil.
func errNotANumber(f float64) error {
	if f-f == 0 { // false only for NaN and ±Inf: one comparison for every finite result
		return nil
	}
	switch {
	case math.IsNaN(f):
		return errResultNaN
	case math.IsInf(f, 1):
		return errResultPosInf
	case math.IsInf(f, -1):
		return errResultNegInf
	}
	return nil
}

// append appends the JSON encoding of *r to dst.
func (enc *resultEncoder[R]) append(dst []byte, r *R) ([]byte, error) {
	p := unsafe.Pointer(r)
	switch enc.kind {
	case resultNull:
		return dst, nil
	case resultRaw:
		raw := *(*stdjson.RawMessage)(p)
		if len(raw) == 0 {
			return append(dst, "null"...), nil // as encoding/json encodes a nil RawMessage
		}
		if !codec.Valid(raw) {
			return dst, errInvalidResult
		}
		return append(dst, raw...), nil
	case resultBool:
		return strconv.AppendBool(dst, *(*bool)(p)), nil
	case resultInt:
		return strconv.AppendInt(dst, loadInt(p, enc.bits), 10), nil
	case resultUint:
		return strconv.AppendUint(dst, loadUint(p, enc.bits), 10), nil
	case resultFloat:
		f := float64(*(*float32)(p))
		if enc.bits == 64 {
			f = *(*float64)(p)
			// Integral results, the common case: an integral float64 below
			// 2^53 is exactly its digits (any shorter decimal is another
			// representable integer), and AppendInt is 3x cheaper than the
			// shortest-float search. One conversion tells it, with no
			// separate NaN check (NaN fails the range test).
			if f > -1<<53 && f < 1<<53 {
				if n := int64(f); float64(n) == f && (n != 0 || math.Float64bits(f) == 0) { // -0 keeps its sign below
					if uint64(n) < 10 {
						return append(dst, byte('0'+n)), nil
					}
					return strconv.AppendInt(dst, n, 10), nil
				}
			}
		}
		if err := errNotANumber(f); err != nil {
			return dst, err
		}
		return appendFloat(dst, f, enc.bits), nil
	case resultString:
		return codec.AppendString(dst, *(*string)(p)), nil
	}
	h := enc.holders.Get().(*R)
	*h = *r
	out, err := jsonenc.Append(dst, h)
	var zero R
	*h = zero
	enc.holders.Put(h)
	if err != nil {
		return dst, codec.ErrInternal.WithData(err.Error())
	}
	return out, nil
}

// storeInt and storeUint write n into the integer of the given size at p;
// loadInt and loadUint read it back.
func storeInt(p unsafe.Pointer, bits int, n int64) {
	switch bits {
	case 8:
		*(*int8)(p) = int8(n)
	case 16:
		*(*int16)(p) = int16(n)
	case 32:
		*(*int32)(p) = int32(n)
	default:
		*(*int64)(p) = n
	}
}

func storeUint(p unsafe.Pointer, bits int, n uint64) {
	switch bits {
	case 8:
		*(*uint8)(p) = uint8(n)
	case 16:
		*(*uint16)(p) = uint16(n)
	case 32:
		*(*uint32)(p) = uint32(n)
	default:
		*(*uint64)(p) = n
	}
}

func loadInt(p unsafe.Pointer, bits int) int64 {
	switch bits {
	case 8:
		return int64(*(*int8)(p))
	case 16:
		return int64(*(*int16)(p))
	case 32:
		return int64(*(*int32)(p))
	}
	return *(*int64)(p)
}

func loadUint(p unsafe.Pointer, bits int) uint64 {
	switch bits {
	case 8:
		return uint64(*(*uint8)(p))
	case 16:
		return uint64(*(*uint16)(p))
	case 32:
		return uint64(*(*uint32)(p))
	}
	return *(*uint64)(p)
}

// appendFloat formats f as encoding/json does: the shortest decimal that
// round-trips, in exponent form below 1e-6 and from 1e21 up. The caller
// writes integral float64s below 2^53 itself, faster.
func appendFloat(dst []byte, f float64, bits int) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
