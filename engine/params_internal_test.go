package engine

import (
	"fmt"
	"math"
	"reflect"
	"testing"
)

// integerShapes are params structs whose fields are all numbers
// decodeIntegers stores into, and one that is not.
type (
	twoFloats struct{ A, B float64 }
	intsOpt   struct {
		A int   `json:"a"`
		B int64 `json:"b,omitempty"` // not required
	}
	mixed struct {
		A float64
		S string
	}
	slashed struct {
		//lint:ignore SA5008 a name with a backslash: a raw key a\b is a and a backspace
		A float64 `json:"a\\b"`
	}
)

// TestDecodeIntegers holds decodeStruct's integer fast path to its general
// path (the same decoder with the fast path off): on every input both fill
// the same values, the sign of zero included, or fail with the same error.
// It also checks which inputs the fast path takes, so that a fast path
// that never runs cannot pass.
func TestDecodeIntegers(t *testing.T) {
	inputs := []struct {
		params string
		fast   bool // for twoFloats
	}{
		{`[1,2]`, true},
		{`[ 1 , 2 ]`, true},
		{"[\n\t1,\r\n2\n]", true},
		{`[-7,0]`, true},
		{`[0,-0]`, false}, // -0 keeps its sign: the general path
		{`[123456789012345,-123456789012345]`, true},
		{`[1234567890123456,1]`, false}, // 16 digits: strconv rounds
		{`[1.5,2]`, false},
		{`[1,2e3]`, false},
		{`[1,2E-3]`, false},
		{`[1.0,2]`, false},
		{`[1]`, false},     // B missing: the general path words it
		{`[1,2,3]`, false}, // too many
		{`[]`, false},
		{`[1,"2"]`, false},
		{`[null,2]`, false},
		{`[1,[2]]`, false},
		{`[1,{"b":2}]`, false},
		{`[true,2]`, false},
		{`{"A":1,"B":2}`, true},
		{`{ "A" : -3 , "B" : 4 }`, true},
		{`{"B":2,"A":1}`, false}, // out of order: the general path
		{`{"a":1,"B":2}`, false}, // matched regardless of case: the general path
		{`{"\u0041":1,"B":2}`, false},
		{`{"A":1,"A":2}`, false},
		{`{"A":1,"B":2,"C":3}`, false},
		{`{"A":1}`, false},
		{`{"A":1.5,"B":2}`, false},
		{`{"A":"1","B":2}`, false},
		{`{"AB":1,"B":2}`, false},
		{`{"A":1,"B":{}}`, false},
		{`{}`, false},
	}
	check := func(t *testing.T, typ reflect.Type, params string) (fast bool) {
		info, err := analyseParams(typ, nil)
		if err != nil {
			t.Fatal(err)
		}
		d := newParamsDecoderOf(info)
		general := *d
		general.integers = false
		p1, p2 := reflect.New(typ), reflect.New(typ)
		err1 := d.decode(nil, []byte(params), p1.UnsafePointer())
		err2 := general.decode(nil, []byte(params), p2.UnsafePointer())
		if fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Errorf("%s into %v: error %v, general path %v", params, typ, err1, err2)
		}
		if err1 == nil && !sameBits(p1.Elem(), p2.Elem()) {
			t.Errorf("%s into %v: %+v, general path %+v", params, typ, p1.Elem(), p2.Elem())
		}
		if !d.integers {
			return false
		}
		return d.decodeIntegers([]byte(params), reflect.New(typ).UnsafePointer())
	}
	for _, in := range inputs {
		if fast := check(t, reflect.TypeFor[twoFloats](), in.params); fast != in.fast {
			t.Errorf("%s into twoFloats: fast path taken %v, want %v", in.params, fast, in.fast)
		}
		check(t, reflect.TypeFor[intsOpt](), in.params)
		if check(t, reflect.TypeFor[mixed](), in.params) {
			t.Errorf("%s: the fast path took a struct with a string field", in.params)
		}
	}
	for _, params := range []string{`{"a\b":1}`, `{"a\\b":1}`} {
		check(t, reflect.TypeFor[slashed](), params)
	}
	// A missing field that is not required: the fast path fills A alone.
	for _, params := range []string{`[5]`, `{"a":5}`} {
		if !check(t, reflect.TypeFor[intsOpt](), params) {
			t.Errorf("%s into intsOpt: fast path not taken", params)
		}
	}
	// Not a container (only a caller bug could pass one): never taken.
	info, err := analyseParams(reflect.TypeFor[twoFloats](), nil)
	if err != nil {
		t.Fatal(err)
	}
	if newParamsDecoderOf(info).decodeIntegers([]byte(`"1,2$"`), reflect.New(reflect.TypeFor[twoFloats]()).UnsafePointer()) {
		t.Error(`"1,2$": fast path taken`)
	}
}

// sameBits reports whether two values of a struct of numbers and strings
// are equal bit for bit (-0 differs from 0).
func sameBits(a, b reflect.Value) bool {
	for i := range a.NumField() {
		x, y := a.Field(i), b.Field(i)
		switch x.Kind() {
		case reflect.Float64:
			if math.Float64bits(x.Float()) != math.Float64bits(y.Float()) {
				return false
			}
		default:
			if !x.Equal(y) {
				return false
			}
		}
	}
	return true
}
