package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
)

type point struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// TestHandlerShapes: every handler shape and every kind of P, by position
// and by name, with the JSON-RPC answers they give.
func TestHandlerShapes(t *testing.T) {
	e := engine.New()
	var flushed, last string
	must(t, engine.RegisterNoParams(e, "hello", func(context.Context) (string, error) { return "Hello", nil }))
	must(t, engine.RegisterNoResult(e, "log", func(_ context.Context, msg string) error { last = msg; return nil }, engine.ParamNames("msg")))
	must(t, engine.RegisterNoParamsNoResult(e, "flush", func(context.Context) error { flushed = last; return nil }))
	must(t, engine.Register(e, "double", func(_ context.Context, n int) (int, error) { return 2 * n, nil }))
	must(t, engine.Register(e, "not", func(_ context.Context, b bool) (bool, error) { return !b, nil }, engine.ParamNames("b")))
	must(t, engine.Register(e, "half", func(_ context.Context, f float64) (float64, error) { return f / 2, nil }))
	must(t, engine.Register(e, "raw", func(_ context.Context, v json.RawMessage) (json.RawMessage, error) { return v, nil }))
	must(t, engine.Register(e, "year", func(_ context.Context, t time.Time) (int, error) { return t.Year(), nil }))
	must(t, engine.Register(e, "norm", func(_ context.Context, p *point) (string, error) {
		if p == nil {
			return "origin", nil
		}
		return fmt.Sprint(p.X*p.X + p.Y*p.Y), nil
	}))
	must(t, engine.Register(e, "maybe", func(_ context.Context, n *int) (bool, error) { return n != nil, nil }))
	tests := []struct{ method, params, want string }{
		{"hello", ``, `"Hello"`},
		{"hello", `[]`, `"Hello"`},
		{"hello", `{}`, `"Hello"`},
		{"hello", `["x"]`, `invalid:too many params: want at most 0, got 1`},
		{"log", `["hi"]`, `null`},
		{"flush", ``, `null`},
		{"log", `{"msg":"named"}`, `null`},
		{"log", `{"MSG":"any case"}`, `null`},
		{"log", `{"other":1}`, `invalid:missing param "msg"`},
		{"log", `[]`, `invalid:missing param "msg"`},
		{"log", `[1]`, `invalid:param "msg": cannot use number as string`},
		{"double", `[21]`, `42`},
		{"double", `[1, 2]`, `invalid:too many params: want at most 1, got 2`},
		{"double", `{"n":1}`, `invalid:params must be an array of one value`},
		{"double", ``, `invalid:missing param "value"`},
		{"double", `[1.5]`, `invalid:param "value": cannot use 1.5 as int`},
		{"not", `{"b":true}`, `false`},
		{"not", `[false]`, `true`},
		{"half", `[3]`, `1.5`},
		{"raw", `[{"a":[1]}]`, `{"a":[1]}`},
		{"year", `["2026-11-24T00:00:00Z"]`, `2026`},
		{"norm", ``, `"origin"`},
		{"norm", `[3, 4]`, `"25"`},
		{"norm", `{"x":3,"y":4}`, `"25"`},
		{"norm", `{"x":3}`, `invalid:missing param "y"`},
		{"maybe", ``, `false`},
		{"maybe", `[1]`, `true`},
	}
	for _, tt := range tests {
		in := `{"jsonrpc":"2.0","method":"` + tt.method + `","id":1}`
		if tt.params != "" {
			in = `{"jsonrpc":"2.0","method":"` + tt.method + `","params":` + tt.params + `,"id":1}`
		}
		want := `{"jsonrpc":"2.0","result":` + tt.want + `,"id":1}`
		if reason, ok := strings.CutPrefix(tt.want, "invalid:"); ok {
			data, _ := json.Marshal(reason)
			want = `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":` + string(data) + `},"id":1}`
		}
		if got := handle(e, in); got != want {
			t.Errorf("%s %s:\ngot  %s\nwant %s", tt.method, tt.params, got, want)
		}
	}
	if flushed != "hi" {
		t.Errorf("the no-params, no-result handler saw %q", flushed)
	}
}

// TestPointerParamsAreFresh: a pointer P is a new value per call, so a
// handler may keep it.
func TestPointerParamsAreFresh(t *testing.T) {
	e := engine.New()
	var kept []*point
	must(t, engine.RegisterNoResult(e, "keep", func(_ context.Context, p *point) error { kept = append(kept, p); return nil }))
	handle(e, `{"jsonrpc":"2.0","method":"keep","params":[1,2],"id":1}`)
	handle(e, `{"jsonrpc":"2.0","method":"keep","params":[3,4],"id":1}`)
	if len(kept) != 2 || *kept[0] != (point{1, 2}) || *kept[1] != (point{3, 4}) {
		t.Errorf("kept %v", kept)
	}
}

type inner struct {
	Deep     int    `json:"deep"`
	Shadowed string `json:"shadow"` // hidden by tagForms.Shadow, which is shallower
}

// tagForms holds every form of json tag a params struct can carry.
type tagForms struct {
	Plain   int
	Renamed string `json:"renamed"`
	Skipped int    `json:"-"`
	//lint:ignore SA5008 the "-," form, which names a member "-", is what this test is about
	Dash     int    `json:"-,"`
	Optional string `json:"optional,omitempty"`
	Quoted   int    `json:"quoted,string"`
	Ptr      *bool  `json:"ptr"`
	inner           // promoted: deep (shadow is hidden)
	Shadow   string `json:"shadow"`
	Named    inner  `json:"named"`
	hidden   int
}

// TestOneAnalysis: for a type with every tag form, the signature, the
// OpenRPC params and the decoder agree on every member: the same names,
// in the same order, of the same types, with the same ones required.
func TestOneAnalysis(t *testing.T) {
	e := engine.New(engine.WithIntrospection())
	must(t, engine.Register(e, "tags", func(_ context.Context, p tagForms) (string, error) {
		p.hidden = 0
		return fmt.Sprintf("%+v", p), nil
	}))
	type member struct {
		name, typ string
		required  bool
		value     string // a value to send, by name and by position
	}
	want := []member{
		{"Plain", "number", true, `1`},
		{"renamed", "string", true, `"r"`},
		{"-", "number", true, `2`},
		{"optional", "string", false, `"o"`},
		{"quoted", "string", true, `"3"`},
		{"ptr", "boolean", false, `true`},
		{"deep", "number", true, `4`},
		{"shadow", "string", true, `"s"`},
		{"named", "object", true, `{"deep":5,"shadow":"n"}`},
	}
	// The signature.
	var sig struct{ Result [][]string }
	must(t, json.Unmarshal([]byte(handle(e, `{"jsonrpc":"2.0","method":"system.methodSignature","params":["tags"],"id":1}`)), &sig))
	wantSig := []string{"string"}
	for _, m := range want {
		wantSig = append(wantSig, m.typ)
	}
	if len(sig.Result) != 1 || !slices.Equal(sig.Result[0], wantSig) {
		t.Errorf("signature %v, want %v", sig.Result, wantSig)
	}
	// The OpenRPC params.
	var doc struct {
		Result struct {
			Methods []struct {
				Name   string
				Params []struct {
					Name     string
					Required bool
					Schema   struct{ Type string }
				}
			}
		}
	}
	must(t, json.Unmarshal([]byte(handle(e, `{"jsonrpc":"2.0","method":"rpc.discover","id":1}`)), &doc))
	found := false
	for _, m := range doc.Result.Methods {
		if m.Name != "tags" {
			continue
		}
		found = true
		var got []member
		for _, p := range m.Params {
			typ := p.Schema.Type
			if typ == "integer" {
				typ = "number"
			}
			got = append(got, member{name: p.Name, typ: typ, required: p.Required})
		}
		var wantDoc []member
		for _, m := range want {
			wantDoc = append(wantDoc, member{name: m.name, typ: m.typ, required: m.required})
		}
		if !reflect.DeepEqual(got, wantDoc) {
			t.Errorf("OpenRPC params\n%v, want\n%v", got, wantDoc)
		}
	}
	if !found {
		t.Fatal("tags is not in the OpenRPC document")
	}
	// The decoder: by name and by position, every member lands in its field.
	const full = "{Plain:1 Renamed:r Skipped:0 Dash:2 Optional:o Quoted:3 Ptr:P inner:{Deep:4 Shadowed:} Shadow:s Named:{Deep:5 Shadowed:n} hidden:0}"
	pointer := regexp.MustCompile(`Ptr:0x[0-9a-f]+`)
	var byName, byPosition []string
	for _, m := range want {
		byName = append(byName, fmt.Sprintf("%q:%s", m.name, m.value))
		byPosition = append(byPosition, m.value)
	}
	for _, params := range []string{"{" + strings.Join(byName, ",") + `,"Skipped":9}`, "[" + strings.Join(byPosition, ",") + "]"} {
		var resp struct{ Result string }
		must(t, json.Unmarshal([]byte(handle(e, `{"jsonrpc":"2.0","method":"tags","params":`+params+`,"id":1}`)), &resp))
		if got := pointer.ReplaceAllString(resp.Result, "Ptr:P"); got != full {
			t.Errorf("%s decoded to\n%s, want\n%s", params, got, full)
		}
	}
	// The decoder requires exactly the members the documents call required.
	for i, m := range want {
		var rest []string
		for j, o := range want {
			if j != i {
				rest = append(rest, fmt.Sprintf("%q:%s", o.name, o.value))
			}
		}
		got := handle(e, `{"jsonrpc":"2.0","method":"tags","params":{`+strings.Join(rest, ",")+`},"id":1}`)
		if missing := strings.Contains(got, `missing param \"`+m.name+`\"`); missing != m.required {
			t.Errorf("without %q (required %v): %s", m.name, m.required, got)
		}
	}
}
