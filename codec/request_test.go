package codec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

type wantReq struct {
	method, id, params string // "" means nil
	version            Version
	invalid            string
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		isArray bool
		want    []wantReq
	}{
		{"positional", `{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}`, false,
			[]wantReq{{method: "subtract", id: "1", params: "[42, 23]", version: Version2}}},
		{"named", `{"jsonrpc":"2.0","method":"subtract","params":{"subtrahend":23,"minuend":42},"id":3}`, false,
			[]wantReq{{method: "subtract", id: "3", params: `{"subtrahend":23,"minuend":42}`, version: Version2}}},
		{"notification", `{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}`, false,
			[]wantReq{{method: "update", params: "[1,2,3,4,5]", version: Version2}}},
		{"null id is a call", `{"jsonrpc":"2.0","method":"m","id":null}`, false,
			[]wantReq{{method: "m", id: "null", version: Version2}}},
		{"ids byte for byte", `{"jsonrpc":"2.0","method":"m","id":"a\"\u00e9b"}`, false,
			[]wantReq{{method: "m", id: `"a\"\u00e9b"`, version: Version2}}},
		{"big id", `{"jsonrpc":"2.0","method":"m","id":123456789012345678901234567890.5e-3}`, false,
			[]wantReq{{method: "m", id: "123456789012345678901234567890.5e-3", version: Version2}}},
		{"escaped method and keys", `{"\u006aSONRPC":1,"jsonr\u0070c":"2\u002e0","m\u0065thod":"a\u002fb\ud800","id":7}`, false,
			[]wantReq{{method: "a/b\uFFFD", id: "7", version: Version2}}},
		{"last member wins", `{"jsonrpc":"2.0","method":"a","method":"b","id":1,"id":2}`, false,
			[]wantReq{{method: "b", id: "2", version: Version2}}},
		{"null params are absent", `{"jsonrpc":"2.0","method":"m","params":null,"id":1}`, false,
			[]wantReq{{method: "m", id: "1", version: Version2}}},
		{"1.0 request", `{"method":"m","params":[],"id":1}`, false,
			[]wantReq{{method: "m", id: "1", params: "[]", version: VersionNone, invalid: InvalidVersion}}},
		{"other version", `{"jsonrpc":"1.0","method":"m","id":1}`, false,
			[]wantReq{{method: "m", id: "1", version: VersionOther, invalid: InvalidVersion}}},
		{"method not a string", `{"jsonrpc": "2.0", "method": 1, "params": "bar"}`, false,
			[]wantReq{{version: Version2, invalid: InvalidParamsType}}},
		{"method missing", `{"jsonrpc":"2.0","id":1}`, false,
			[]wantReq{{id: "1", version: Version2, invalid: InvalidMethodMissing}}},
		{"bad method type", `{"jsonrpc":"2.0","method":["m"],"id":1}`, false,
			[]wantReq{{id: "1", version: Version2, invalid: InvalidMethodType}}},
		{"object id", `{"jsonrpc":"2.0","method":"m","id":{}}`, false,
			[]wantReq{{method: "m", version: Version2, invalid: InvalidIDType}}},
		{"bool id", `{"jsonrpc":"2.0","method":"m","id":true}`, false,
			[]wantReq{{method: "m", version: Version2, invalid: InvalidIDType}}},
		{"array id", `{"jsonrpc":"2.0","method":"m","id":[1]}`, false,
			[]wantReq{{method: "m", version: Version2, invalid: InvalidIDType}}},
		{"scalar params", `{"jsonrpc":"2.0","method":"m","params":"x","id":1}`, false,
			[]wantReq{{method: "m", id: "1", version: Version2, invalid: InvalidParamsType}}},
		{"scalar body", `42`, false, []wantReq{{invalid: InvalidNotObject}}},
		// The known-key fast path: look-alikes that must take the general one.
		{"key prefixes", `{"jsonrpcx":"1.0","jsonrpc":"2.0","methods":"x","method":"m","paramsx":1,"idx":2,"id":3}`, false,
			[]wantReq{{method: "m", id: "3", version: Version2}}},
		{"space before colon", `{"jsonrpc" :"2.0","method" :"m","params" :[1],"id" :1}`, false,
			[]wantReq{{method: "m", id: "1", params: "[1]", version: Version2}}},
		{"version look-alikes", `{"jsonrpc":"2.0 ","method":"m","id":1}`, false,
			[]wantReq{{method: "m", id: "1", version: VersionOther, invalid: InvalidVersion}}},
		{"version escaped", `{"jsonrpc":"2\u002e0","method":"m","id":1}`, false,
			[]wantReq{{method: "m", id: "1", version: Version2}}},
		{"short tail", `{"id":1,"method":"m","jsonrpc":"2.0"}`, false,
			[]wantReq{{method: "m", id: "1", version: Version2}}},
		{"result and error keys in a request", `{"jsonrpc":"2.0","result":1,"error":{},"method":"m","id":1}`, false,
			[]wantReq{{method: "m", id: "1", version: Version2}}},
		{"empty batch", `[]`, true, []wantReq{{invalid: InvalidEmptyBatch}}},
		{"batch of scalars", `[1,2,3]`, true,
			[]wantReq{{invalid: InvalidNotObject}, {invalid: InvalidNotObject}, {invalid: InvalidNotObject}}},
		{"no version, no id: invalid, so answered", `[{"method":"x"}]`, true,
			[]wantReq{{method: "x", version: VersionNone, invalid: InvalidVersion}}},
		{"mixed batch", `[{"jsonrpc":"2.0","method":"a","id":1}, {"foo":"boo"}, {"jsonrpc":"2.0","method":"b"}]`, true,
			[]wantReq{{method: "a", id: "1", version: Version2}, {invalid: InvalidMethodMissing}, {method: "b", version: Version2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AcquireBatch()
			defer ReleaseBatch(b)
			if err := b.Parse([]byte(tt.in)); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if b.IsArray != tt.isArray {
				t.Errorf("IsArray = %v, want %v", b.IsArray, tt.isArray)
			}
			if len(b.Requests) != len(tt.want) {
				t.Fatalf("got %d requests, want %d", len(b.Requests), len(tt.want))
			}
			for i, w := range tt.want {
				r := &b.Requests[i]
				check := func(what string, got []byte, want string) {
					if (got == nil) != (want == "") || string(got) != want {
						t.Errorf("request %d: %s = %q (nil %v), want %q", i, what, got, got == nil, want)
					}
				}
				check("Method", r.Method, w.method)
				check("ID", r.ID, w.id)
				check("Params", r.Params, w.params)
				if r.Version != w.version || r.Invalid != w.invalid {
					t.Errorf("request %d: version %d invalid %q, want %d %q", i, r.Version, r.Invalid, w.version, w.invalid)
				}
			}
		})
	}
}

// TestParseSubslices pins the zero-copy contract: unescaped fields point
// into the body, and they are capped so appends cannot write into it.
func TestParseSubslices(t *testing.T) {
	body := []byte(`{"jsonrpc":"2.0","method":"echo","params":["x"],"id":1}`)
	b := AcquireBatch()
	defer ReleaseBatch(b)
	if err := b.Parse(body); err != nil {
		t.Fatal(err)
	}
	r := &b.Requests[0]
	for _, f := range [][]byte{r.Method, r.Params, r.ID} {
		if cap(f) != len(f) {
			t.Errorf("field %q has spare capacity %d", f, cap(f)-len(f))
		}
		if &f[0] != &body[strings.Index(string(body), string(f))] {
			t.Errorf("field %q is a copy, want a sub-slice of the body", f)
		}
	}
}

// TestParseAgreesWithEncodingJSON checks extracted members against what
// encoding/json decodes from the same bytes.
func TestParseAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"jsonrpc":"2.0","method":"a\u00e9\ud83d\ude00","params":{"x":[1,"\\"]},"id":"q\"x"}`,
		`{"id":-0.5e+7,"method":"\t","jsonrpc":"2.0","params":[]}`,
	} {
		var std struct {
			Method string          `json:"method"`
			ID     json.RawMessage `json:"id"`
			Params json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal([]byte(in), &std); err != nil {
			t.Fatal(err)
		}
		b := AcquireBatch()
		if err := b.Parse([]byte(in)); err != nil {
			t.Fatal(err)
		}
		r := b.Requests[0]
		if string(r.Method) != std.Method || string(r.ID) != string(std.ID) || string(r.Params) != string(std.Params) {
			t.Errorf("%s: got %q %s %s, encoding/json %q %s %s", in, r.Method, r.ID, r.Params, std.Method, std.ID, std.Params)
		}
		ReleaseBatch(b)
	}
}

func TestParseLimits(t *testing.T) {
	b := AcquireBatch() // released once, at the end, to check what the pool hands out next
	b.Limits = Limits{MaxItems: 2, MaxMethodLength: 3, MaxParamsDepth: 2}
	if err := b.Parse([]byte(`[{"jsonrpc":"2.0","method":"abc","params":[[1]],"id":1},{"jsonrpc":"2.0","method":"abcd","id":2},7,8]`)); err != nil {
		t.Fatal(err)
	}
	if b.Items != 4 || len(b.Requests) != 2 {
		t.Fatalf("Items %d, collected %d: want 4 counted, 2 collected", b.Items, len(b.Requests))
	}
	if r := b.Requests[0]; r.Invalid != "" || string(r.Method) != "abc" {
		t.Errorf("item within limits: %+v", r)
	}
	if r := b.Requests[1]; r.Invalid != InvalidMethodLength || string(r.ID) != "2" {
		t.Errorf("long method: %+v", r)
	}
	if err := b.Parse([]byte(`{"jsonrpc":"2.0","method":"abc","params":[[[1]]],"id":3}`)); err != nil {
		t.Fatal(err)
	}
	if r := b.Requests[0]; r.Invalid != InvalidParamsDepth || string(r.ID) != "3" {
		t.Errorf("deep params: %+v", r)
	}
	// The limits never excuse invalid JSON.
	if err := b.Parse([]byte(`[1,2,3,{]`)); err == nil {
		t.Error("invalid JSON past MaxItems was accepted")
	}
	// A released batch's limits do not follow it to its next user.
	ReleaseBatch(b)
	next := AcquireBatch()
	defer ReleaseBatch(next)
	if next.Limits != (Limits{}) {
		t.Errorf("AcquireBatch returned a batch with limits %+v", next.Limits)
	}
}

// TestFlatParams: params of strings and numbers take a fast path (flat);
// whatever it meets, the outcome is the generic path's: the same params
// value, the same depth for MaxParamsDepth, the same syntax error at the
// same offset. The generic path is reached by naming the member "paramz"
// (as long, so offsets line up), which the envelope does not collect.
func TestFlatParams(t *testing.T) {
	long := strings.Repeat(`x\"é`, 20) // 100 bytes, escapes and UTF-8 in it
	for _, params := range []string{
		`[]`, `[ ]`, `{}`, `{ }`, `[1,2]`, `[ 1 , -2.5e3 , "x" ]`, `{"a":1,"b":"2"}`, `{ "a" : 1 , "b" : 2 }`,
		`["\u00e9\"",0]`, `{"\u0061":1}`, `["日本"]`,
		// Past a first flat element: nesting, literals, where value takes over.
		`[1,[2]]`, `[1,{"a":2}]`, `{"a":1,"b":[2]}`, `{"a":{"b":1}}`, `[1,true]`, `[null]`, `{"a":false}`, `[[]]`,
		// Syntax errors before, in and after a flat element.
		`[1,]`, `[,1]`, `[1 2]`, `{"a":1,}`, `{"a" 1}`, `{"a":}`, `{1:2}`, `{"a":1]`, `[1}`, `[01]`, `[1.]`, `[-]`,
		`["x`, `[1`, `{"a":1`, `{"a"`, `[tru]`, "[\"\xff\"]", `["\x"]`, `[1,[2}]`,
		// A long first string, whose end the parse records (Iter.ResetParams).
		`["` + long + `"]`, `["` + long + `",1,"x"]`, `{"m":"` + long + `"}`, `{ "m" : "` + long + `" , "n" : 2 }`,
		`[1,"` + long + `"]`, `["` + long + `",[1]]`, `{"m":"` + long + `","n":{}}`, `["` + long + `",]`, `["` + long,
	} {
		for _, batch := range []bool{false, true} {
			doc := func(member string) []byte {
				d := `{"jsonrpc":"2.0","method":"m","` + member + `":` + params + `,"id":1}`
				if batch {
					d = `[` + d + `,` + d + `]`
				}
				return []byte(d)
			}
			fast, generic := AcquireBatch(), AcquireBatch()
			fast.Limits.MaxParamsDepth, generic.Limits.MaxParamsDepth = 1, 1
			errFast, errGeneric := fast.Parse(doc("params")), generic.Parse(doc("paramz"))
			if fmt.Sprint(errFast) != fmt.Sprint(errGeneric) {
				t.Errorf("%s (batch %v): %v, the generic path says %v", params, batch, errFast, errGeneric)
			}
			if errFast == nil {
				flat := !strings.ContainsAny(params, "[{") || strings.Count(params, "[")+strings.Count(params, "{") == 1
				for i := range fast.Requests {
					r := &fast.Requests[i]
					if string(r.Params) != params || (r.Invalid == "") != flat {
						t.Errorf("%s (batch %v) item %d: params %s, invalid %q", params, batch, i, r.Params, r.Invalid)
					}
					// Read with what the parse recorded, the params are what
					// a fresh scan reads.
					scanned, recorded := Iterate(r.Params), Iter{}
					recorded.ResetParams(r)
					for more := true; more; {
						more = scanned.Next()
						if recorded.Next() != more || string(recorded.Key()) != string(scanned.Key()) || string(recorded.Value()) != string(scanned.Value()) {
							t.Errorf("%s (batch %v) item %d: recorded %s:%s, scanned %s:%s", params, batch, i, recorded.Key(), recorded.Value(), scanned.Key(), scanned.Value())
							break
						}
					}
				}
			}
			ReleaseBatch(fast)
			ReleaseBatch(generic)
		}
	}
}

// TestUsualLayout holds envelope's reading of the usual layout (usual) to
// its loop over members: for every request below, every prefix of it, and
// every one-byte change at every place, alone and in a batch, under
// limits and without, both parse to the same items or fail with the same
// error at the same offset. It also checks that usual reads the usual
// requests, so that a usual that never runs cannot pass.
func TestUsualLayout(t *testing.T) {
	requests := []string{
		`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`,
		`{"jsonrpc":"2.0","method":"ping","id":"a-1"}`,
		`{"jsonrpc":"2.0","method":"notify","params":{"a":[1,{"b":null}]}}`,
		`{"jsonrpc":"2.0","method":"a.long.method.name","params":[],"id":-12.5e3}`,
		`{"jsonrpc":"2.0","method":"m","id":null}`,
		`{"jsonrpc":"2.0","method":"m","params":null,"id":1}`,
		`{"jsonrpc":"2.0","method":"m","params":"x","id":1}`,
		`{"jsonrpc":"2.0","method":"m","id":1,"params":[1]}`,
		`{"jsonrpc":"2.0","method":"m","params":[1],"id":true}`,
		`{"jsonrpc":"2.0","method":"m\u0061","params":[1],"id":1}`,
		`{"jsonrpc":"2.0","method":"日本","id":1}`,
		`{"jsonrpc":"2.0","method":"","id":1}`,
		`{"jsonrpc":"2.0","method":"m","params":[1],"id":1,"method":"n"}`,
		`{"jsonrpc":"2.0","method":"m","params":[1],"id":1,"jsonrpc":"1.0"}`,
		`{"jsonrpc":"2.0","method":"m","params":[1],"id":1,"params":[[2]]}`,
		`{"jsonrpc":"2.0","method":"m","params":[1],"id":1,"\u0069d":2}`,
		`{"jsonrpc":"2.0","method":"m","params":[1],"id":1,"extra":{}}`,
		`{"jsonrpc":"2.0","method":"m","params":[["deep"]],"id":1}`,
		`{"jsonrpc":"2.0","method":"m","params":["` + strings.Repeat("x", 70) + `"],"id":1}`,
		// Spaced as Python's json.dumps writes, and near misses of it.
		`{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1}`,
		`{"jsonrpc": "2.0", "method": "cat", "params": {"name": "Yoko"}, "id": "a"}`,
		`{"jsonrpc": "2.0", "method": "ping", "id": 1}`,
		`{"jsonrpc": "2.0", "method": "ping"}`,
		`{"jsonrpc": "2.0", "method": "m\u0061", "id": 1}`,
		`{"jsonrpc": "2.0", "method": "m", "params": null, "id": 1}`,
		`{"jsonrpc": "2.0", "method": "m", "id": 1, "params": [1]}`,
		`{"jsonrpc": "2.0","method":"m","params":[1],"id":1}`,
		`{"jsonrpc":"2.0","method":"m", "params": [1], "id": 1}`,
		`{"jsonrpc": "2.0", "method": "m",  "params": [1],"id" : 1}`,
	}
	parse := func(body []byte, limits Limits, noUsual bool) (*Batch, string) {
		b := AcquireBatch()
		b.Limits = limits
		b.scan.noUsual = noUsual
		err := b.Parse(body)
		b.scan.noUsual = false
		return b, fmt.Sprint(err)
	}
	compare := func(body []byte, limits Limits) {
		usual, errUsual := parse(body, limits, false)
		loop, errLoop := parse(body, limits, true)
		defer ReleaseBatch(usual)
		defer ReleaseBatch(loop)
		if errUsual != errLoop {
			t.Fatalf("%q: %s, the loop says %s", body, errUsual, errLoop)
		}
		// Compared by length first: a pooled batch's empty Requests is not nil.
		same := len(usual.Requests) == len(loop.Requests) && (len(loop.Requests) == 0 || reflect.DeepEqual(usual.Requests, loop.Requests))
		if usual.IsArray != loop.IsArray || usual.Items != loop.Items || !same {
			t.Fatalf("%q: %+v, the loop reads %+v", body, usual.Requests, loop.Requests)
		}
	}
	limits := []Limits{{}, {MaxMethodLength: 3, MaxParamsDepth: 1, AcceptV1: true}}
	changes := []byte{' ', '"', '}', ']', ',', ':', '\\', '[', '{', 'x', '1', '-', 0, 0xff}
	for _, req := range requests {
		for _, body := range []string{req, "[" + req + "," + req + "]"} {
			for _, l := range limits {
				for n := range len(body) + 1 {
					compare([]byte(body[:n]), l)
				}
				b := []byte(body)
				for i := range b {
					was := b[i]
					for _, c := range changes {
						b[i] = c
						compare(b, l)
					}
					b[i] = was
				}
			}
		}
	}
	// The usual requests, compact and spaced, take usual's road to their
	// end, vouched.
	for _, req := range []string{requests[0], `{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1}`} {
		var s scanner
		s.data = []byte(req)
		if end := s.usual(1, 0); end != len(req)-1 || !s.vouched {
			t.Errorf("usual read %s up to %d (vouched %v), want %d and vouched", s.data, end, s.vouched, len(req)-1)
		}
	}
}
