package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/jetrpc/jetrpc/internal/spectest"
	"github.com/valyala/bytebufferpool"
)

func newDemo(t testing.TB, opts ...engine.Option) *engine.Engine {
	t.Helper()
	e := engine.New(append([]engine.Option{engine.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)...)
	if err := demo.Register(e); err != nil {
		t.Fatal(err)
	}
	return e
}

func handle(e *engine.Engine, in string) string {
	out := bytebufferpool.Get()
	defer bytebufferpool.Put(out)
	e.Handle(context.Background(), []byte(in), out)
	return string(out.B)
}

func TestSpecification(t *testing.T) {
	e := newDemo(t)
	for _, tc := range spectest.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			got := handle(e, tc.In)
			if got != tc.Want {
				t.Errorf("in:   %s\ngot:  %s\nwant: %s", tc.In, got, tc.Want)
			}
			if got != "" && !json.Valid([]byte(got)) {
				t.Errorf("answer is not valid JSON: %s", got)
			}
		})
	}
}

type wrapErr struct{ err error }

func (w wrapErr) Error() string { return "wrapped: " + w.err.Error() }
func (w wrapErr) Unwrap() error { return w.err }

func TestHandlerErrors(t *testing.T) {
	e := newDemo(t)
	must(t, e.RegisterRaw("coded", func(*engine.Call) error {
		return &codec.Error{Code: -32001, Message: "busy", Data: json.RawMessage(`{"retry":3}`)}
	}))
	must(t, e.RegisterRaw("wrapped", func(*engine.Call) error {
		return fmt.Errorf("outer: %w", wrapErr{codec.NewError(42, "inner")})
	}))
	must(t, e.RegisterRaw("plain", func(*engine.Call) error { return errors.New("secret detail") }))
	must(t, e.RegisterRaw("baddata", func(*engine.Call) error { return &codec.Error{Code: 7, Message: "m", Data: []byte("{")} }))
	must(t, e.RegisterRaw("panics", func(*engine.Call) error { panic("boom") }))
	must(t, e.RegisterRaw("badraw", func(c *engine.Call) error { return c.ResultRaw([]byte(`{"a":`)) }))
	must(t, e.RegisterRaw("twice", func(c *engine.Call) error {
		_ = c.ResultString("a")
		return c.ResultString("b")
	}))
	must(t, e.RegisterRaw("noresult", func(*engine.Call) error { return nil }))
	must(t, e.RegisterRaw("value", func(c *engine.Call) error {
		return c.Result(&struct {
			A int    `json:"a"`
			S string `json:"s"`
		}{1, "<&>"})
	}))
	must(t, engine.Register(e, "nan", func(context.Context, struct{}) (float64, error) { return 0 * 1 / zero(), nil }))
	must(t, engine.Register(e, "neginf", func(context.Context, struct{}) (float32, error) { return float32(-1 / zero()), nil }))
	must(t, e.RegisterRaw("cancelled", func(*engine.Call) error { return fmt.Errorf("query: %w", context.Canceled) }))
	must(t, e.RegisterRaw("deadline", func(*engine.Call) error { return context.DeadlineExceeded }))
	must(t, e.RegisterRaw("rawutf8", func(c *engine.Call) error { return c.ResultRaw([]byte("\"\xff\"")) }))
	must(t, e.RegisterRaw("gojsonutf8", func(c *engine.Call) error {
		return c.Result(&struct{ R json.RawMessage }{json.RawMessage("\"\xff\"")})
	}))
	must(t, engine.Register(e, "typedutf8", func(context.Context, struct{}) (json.RawMessage, error) { return json.RawMessage("[\"\xfe\"]"), nil }))
	must(t, e.RegisterRaw("datautf8", func(*engine.Call) error { return &codec.Error{Code: 7, Message: "m\xff", Data: []byte("\"\xff\"")} }))
	tests := []struct{ method, want string }{
		{"coded", `{"jsonrpc":"2.0","error":{"code":-32001,"message":"busy","data":{"retry":3}},"id":1}`},
		{"wrapped", `{"jsonrpc":"2.0","error":{"code":42,"message":"inner"},"id":1}`},
		{"plain", `{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}`},
		{"baddata", `{"jsonrpc":"2.0","error":{"code":7,"message":"m"},"id":1}`},
		{"panics", `{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}`},
		{"badraw", `{"jsonrpc":"2.0","error":{"code":-32603,"message":"result is not valid JSON"},"id":1}`},
		{"twice", `{"jsonrpc":"2.0","error":{"code":-32603,"message":"result set twice"},"id":1}`},
		{"noresult", `{"jsonrpc":"2.0","result":null,"id":1}`},
		{"value", `{"jsonrpc":"2.0","result":{"a":1,"s":"<&>"},"id":1}`},
		{"nan", `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"the result is NaN, which JSON cannot represent"},"id":1}`},
		{"neginf", `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"the result overflows to -Inf, which JSON cannot represent"},"id":1}`},
		{"cancelled", `{"jsonrpc":"2.0","error":{"code":-32000,"message":"call cancelled"},"id":1}`},
		{"deadline", `{"jsonrpc":"2.0","error":{"code":-32001,"message":"call timed out"},"id":1}`},
		// Nothing a handler produces puts invalid UTF-8 into an answer.
		{"rawutf8", `{"jsonrpc":"2.0","error":{"code":-32603,"message":"result is not valid JSON"},"id":1}`},
		{"gojsonutf8", `{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error","data":"jsonenc: encoding holds invalid UTF-8 (from a json.RawMessage)"},"id":1}`},
		{"typedutf8", `{"jsonrpc":"2.0","error":{"code":-32603,"message":"result is not valid JSON"},"id":1}`},
		{"datautf8", `{"jsonrpc":"2.0","error":{"code":7,"message":"m\ufffd"},"id":1}`},
	}
	for _, tt := range tests {
		got := handle(e, `{"jsonrpc":"2.0","method":"`+tt.method+`","id":1}`)
		if got != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.method, got, tt.want)
		}
	}
	// After a panic the engine keeps serving.
	if got := handle(e, `{"jsonrpc":"2.0","method":"ping","id":2}`); got != `{"jsonrpc":"2.0","result":"pong","id":2}` {
		t.Errorf("after a panic: %s", got)
	}
}

func zero() float64 { return 0 }

// TestRawResultsFromParams pins when a raw result skips validation: only
// when it is exactly one of the call's raw params values.
func TestRawResultsFromParams(t *testing.T) {
	e := engine.New()
	type p struct {
		V json.RawMessage `json:"v"`
	}
	must(t, engine.Register(e, "whole", func(_ context.Context, p p) (json.RawMessage, error) { return p.V, nil }))
	must(t, engine.Register(e, "part", func(_ context.Context, p p) (json.RawMessage, error) { return p.V[1:], nil }))
	must(t, engine.Register(e, "prefix", func(_ context.Context, p p) (json.RawMessage, error) { return p.V[:len(p.V)-1], nil }))
	for _, tt := range []struct{ method, want string }{
		{"whole", `{"jsonrpc":"2.0","result":[1,2],"id":1}`},
		{"part", `{"jsonrpc":"2.0","error":{"code":-32603,"message":"result is not valid JSON"},"id":1}`},
		{"prefix", `{"jsonrpc":"2.0","error":{"code":-32603,"message":"result is not valid JSON"},"id":1}`},
	} {
		if got := handle(e, `{"jsonrpc":"2.0","method":"`+tt.method+`","params":[[1,2]],"id":1}`); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.method, got, tt.want)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRegistrationFailsLoudly(t *testing.T) {
	e := newDemo(t)
	if err := e.RegisterRaw("ping", func(*engine.Call) error { return nil }); !errors.Is(err, engine.ErrDuplicateMethod) {
		t.Errorf("duplicate RegisterRaw: %v", err)
	}
	if err := engine.Register(e, "add", demo.Add); !errors.Is(err, engine.ErrDuplicateMethod) {
		t.Errorf("duplicate Register: %v", err)
	}
	type embedsPointer struct{ *demo.AddParams }
	bad := []struct {
		err  error
		says string
	}{
		{e.RegisterRaw("", func(*engine.Call) error { return nil }), "empty method name"},
		{e.RegisterRaw("nil", nil), "nil handler"},
		{engine.Register(e, "any", func(context.Context, any) (int, error) { return 0, nil }), "params type interface {}: an interface"},
		{engine.Register(e, "func", func(context.Context, func()) (int, error) { return 0, nil }), "params type func(): a func cannot hold"},
		{engine.Register(e, "chan", func(context.Context, struct{}) (chan int, error) { return nil, nil }), "result type chan int: a chan cannot"},
		{engine.Register(e, "embedptr", func(context.Context, embedsPointer) (int, error) { return 0, nil }), "field A is promoted through an embedded pointer"},
		{engine.Register(e, "dupembedded", func(context.Context, struct {
			X1
			X2
		}) (int, error) {
			return 0, nil
		}), `fields X1.X and X2.X are both named "X" at the same depth`},
		{engine.Register(e, "named", demo.Add, engine.ParamNames("x", "y")), "ParamNames names a struct's params"},
		{engine.Register(e, "twonames", func(context.Context, int) (int, error) { return 0, nil }, engine.ParamNames("x", "y")), "ParamNames gives it 2 names"},
		{engine.Register(e, "ptrptr", func(context.Context, **int) (int, error) { return 0, nil }), "a pointer to a pointer"},
		{engine.Register[struct{}, int](e, "nilfn", nil), "nil function"},
		{engine.RegisterNoParams[int](e, "nilfn", nil), "nil function"},
		{engine.RegisterNoResult[int](e, "nilfn", nil), "nil function"},
		{engine.RegisterNoParamsNoResult(e, "nilfn", nil), "nil function"},
	}
	for i, tt := range bad {
		if tt.err == nil || !strings.HasPrefix(tt.err.Error(), "engine: ") || !strings.Contains(tt.err.Error(), tt.says) {
			t.Errorf("bad registration %d: err = %v, want an engine: error saying %q", i, tt.err, tt.says)
		}
	}
}

// X1 and X2 both have a field X: embedded side by side, neither wins.
type (
	X1 struct{ X int }
	X2 struct{ X int }
)

type shapes struct {
	N   int      `json:"n"`
	U   uint8    `json:"u,omitempty"`
	S   string   `json:"s,omitempty"`
	B   bool     `json:"b,omitempty"`
	F32 float32  `json:"f32,omitempty"`
	P   *int     `json:"p"`
	L   []string `json:"l,omitempty"`
	Tag int      `json:"tagged,string,omitempty"`
	Ign int      `json:"-"`
	hid int
}

func TestTypedParams(t *testing.T) {
	e := newDemo(t)
	must(t, engine.Register(e, "shapes", func(_ context.Context, p shapes) (string, error) {
		p.hid = 0
		b, err := json.Marshal(p)
		return string(b), err
	}))
	must(t, engine.Register(e, "slice", func(_ context.Context, p []int) (int, error) { return len(p), nil }))
	must(t, engine.Register(e, "array", func(_ context.Context, p [2]int) (int, error) { return p[0] * p[1], nil }))
	must(t, engine.Register(e, "map", func(_ context.Context, p map[string]int) (int, error) { return len(p), nil }))
	must(t, engine.Register(e, "none", func(context.Context, struct{}) (bool, error) { return true, nil }))
	tests := []struct{ method, params, want string }{
		{"shapes", `{"n":-5,"u":255,"s":"a\u00e9\"","b":true,"f32":1.5,"p":3,"l":["x"],"tagged":"9","Ign":4}`,
			`"{\"n\":-5,\"u\":255,\"s\":\"aé\\\"\",\"b\":true,\"f32\":1.5,\"p\":3,\"l\":[\"x\"],\"tagged\":\"9\"}"`},
		{"shapes", `{"N":1}`, `"{\"n\":1,\"p\":null}"`},
		{"shapes", `[7, 1, "s", false, 0.5, null]`, `"{\"n\":7,\"u\":1,\"s\":\"s\",\"f32\":0.5,\"p\":null}"`},
		{"shapes", `{"n":1.5}`, `invalid:param "n": cannot use 1.5 as int`},
		{"shapes", `{"n":1,"tagged":9}`, `invalid:param "tagged": cannot use number as string`},
		{"shapes", `{"n":1,"tagged":"x"}`, `invalid:param "tagged": cannot use x as int`},
		{"shapes", `{"n":1,"u":256}`, `invalid:param "u": cannot use 256 as uint8`},
		{"shapes", `{"n":1,"u":-1}`, `invalid:param "u": cannot use -1 as uint8`},
		{"shapes", `{"n":1,"b":"yes"}`, `invalid:param "b": cannot use string as boolean`},
		{"shapes", `{"n":1,"s":1}`, `invalid:param "s": cannot use number as string`},
		{"shapes", `{"n":1,"l":{}}`, `invalid:param "l": `},
		{"shapes", `{}`, `invalid:missing param "n"`},
		{"slice", `[1,2,3]`, `3`},
		{"slice", ``, `0`},
		{"slice", `{"a":1}`, `invalid:params must be an array`},
		{"array", `[6,7]`, `42`},
		{"map", `{"a":1,"b":2}`, `2`},
		{"map", `[1]`, `invalid:params must be an object`},
		{"map", `{"a":"x"}`, `invalid:`},
		{"none", ``, `true`},
		{"none", `[]`, `true`},
		{"none", `{}`, `true`},
		{"none", `[1]`, `invalid:too many params: want at most 0, got 1`},
	}
	for _, tt := range tests {
		in := `{"jsonrpc":"2.0","method":"` + tt.method + `","id":1`
		if tt.params != "" {
			in += `,"params":` + tt.params
		}
		got := handle(e, in+"}")
		var resp struct {
			Result json.RawMessage
			Error  *struct {
				Code int
				Data string
			}
		}
		if err := json.Unmarshal([]byte(got), &resp); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if want, ok := strings.CutPrefix(tt.want, "invalid:"); ok {
			if resp.Error == nil || resp.Error.Code != -32602 || !strings.HasPrefix(resp.Error.Data, want) {
				t.Errorf("%s %s: got %s, want -32602 with data %q", tt.method, tt.params, got, want)
			}
			continue
		}
		if string(resp.Result) != tt.want {
			t.Errorf("%s %s: got %s, want result %s", tt.method, tt.params, got, tt.want)
		}
	}
}

// TestTypedResults checks each fast-path result kind against encoding/json.
func TestTypedResults(t *testing.T) {
	e := engine.New()
	values := []any{true, int8(-8), int16(-16), int32(-32), int64(-1 << 62), uint8(8), uint16(16), uint32(32),
		uint64(1<<64 - 1), float32(0.1), 1e21, 1e-7, 123456.789, math.Copysign(0, -1), "q\"\u2028<",
		// float64s at the edges of the integral fast path
		0.0, 7.0, -7.0, 10.0, float64(1<<53 - 1), -float64(1<<53 - 1), float64(1 << 53), -float64(1 << 53), 1e20, -0.5, json.RawMessage(`{"x":1}`),
		json.RawMessage(nil), []int{1}, map[string]int{"k": 1}}
	for i, v := range values {
		name := "r" + strconv.Itoa(i)
		switch v := v.(type) {
		case bool:
			must(t, registerConst(e, name, v))
		case int8:
			must(t, registerConst(e, name, v))
		case int16:
			must(t, registerConst(e, name, v))
		case int32:
			must(t, registerConst(e, name, v))
		case int64:
			must(t, registerConst(e, name, v))
		case uint8:
			must(t, registerConst(e, name, v))
		case uint16:
			must(t, registerConst(e, name, v))
		case uint32:
			must(t, registerConst(e, name, v))
		case uint64:
			must(t, registerConst(e, name, v))
		case float32:
			must(t, registerConst(e, name, v))
		case float64:
			must(t, registerConst(e, name, v))
		case string:
			must(t, registerConst(e, name, v))
		case json.RawMessage:
			must(t, registerConst(e, name, v))
		default:
			must(t, registerConst(e, name, v))
		}
		std, _ := json.Marshal(v)
		want := strings.NewReplacer(`\u003c`, "<").Replace(string(std))
		got := handle(e, `{"jsonrpc":"2.0","method":"`+name+`","id":1}`)
		if wantAnswer := `{"jsonrpc":"2.0","result":` + want + `,"id":1}`; got != wantAnswer {
			t.Errorf("%T %v: got %s, want %s", v, v, got, wantAnswer)
		}
	}
}

func registerConst[R any](e *engine.Engine, name string, v R) error {
	return engine.Register(e, name, func(context.Context, struct{}) (R, error) { return v, nil })
}

// TestConcurrentCallsKeepTheirBytes runs many goroutines whose params and
// ids are unique per call through one engine; any sharing of pooled
// memory between calls shows up as a wrong answer.
func TestConcurrentCallsKeepTheirBytes(t *testing.T) {
	e := newDemo(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := bytebufferpool.Get()
			defer bytebufferpool.Put(out)
			for i := range 300 {
				msg := strings.Repeat(strconv.Itoa(g), 1+i%50) + `\"` + strconv.Itoa(i)
				id := `"` + strconv.Itoa(g) + "-" + strconv.Itoa(i) + `"`
				in := `[{"jsonrpc":"2.0","method":"echo","params":["` + msg + `"],"id":` + id + `},` +
					`{"jsonrpc":"2.0","method":"add","params":{"a":` + strconv.Itoa(i) + `,"b":` + strconv.Itoa(g) + `},"id":` + strconv.Itoa(i) + `}]`
				want := `[{"jsonrpc":"2.0","result":"` + msg + `","id":` + id + `},{"jsonrpc":"2.0","result":` + strconv.Itoa(i+g) + `,"id":` + strconv.Itoa(i) + `}]`
				out.Reset()
				e.Handle(context.Background(), []byte(in), out)
				if !bytes.Equal(out.B, []byte(want)) {
					t.Errorf("goroutine %d call %d:\ngot  %s\nwant %s", g, i, out.B, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestAppendKeepsPrefix(t *testing.T) {
	e := newDemo(t)
	got := e.Append(context.Background(), []byte("prefix:"), []byte(`[{"jsonrpc":"2.0","method":"ping"}]`))
	if string(got) != "prefix:" {
		t.Errorf("notifications-only batch appended %q", got)
	}
	got = e.Append(context.Background(), []byte("prefix:"), []byte(`{"jsonrpc":"2.0","method":"ping","id":1}`))
	if string(got) != `prefix:{"jsonrpc":"2.0","result":"pong","id":1}` {
		t.Errorf("got %q", got)
	}
}

func TestSleepHonoursCancellation(t *testing.T) {
	e := newDemo(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := bytebufferpool.Get()
	defer bytebufferpool.Put(out)
	done := make(chan struct{})
	go func() {
		e.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"sleep","params":{"ms":60000},"id":1}`), out)
		close(done)
	}()
	cancel() // whether before the call starts or while it sleeps, it answers -32000
	<-done
	if want := `{"jsonrpc":"2.0","error":{"code":-32000,"message":"call cancelled"},"id":1}`; string(out.B) != want {
		t.Errorf("got %s, want %s", out.B, want)
	}
}

// TestMiddlewareOrder: global middleware runs outside per-method
// middleware, first listed outermost, composed once.
func TestMiddlewareOrder(t *testing.T) {
	var trace []string
	tag := func(name string) engine.Middleware {
		return func(next engine.Handler) engine.Handler {
			return func(c *engine.Call) error {
				trace = append(trace, name+">")
				err := next(c)
				trace = append(trace, "<"+name)
				return err
			}
		}
	}
	deny := func(next engine.Handler) engine.Handler {
		return func(c *engine.Call) error { return codec.NewError(-32004, "denied") }
	}
	e := engine.New(engine.WithMiddleware(tag("g1"), tag("g2")))
	must(t, e.RegisterRaw("m", func(c *engine.Call) error { trace = append(trace, "h"); return c.ResultString("ok") }, engine.Use(tag("m1"))))
	must(t, e.RegisterRaw("closed", func(c *engine.Call) error { return c.ResultString("secret") }, engine.Use(deny)))
	if got := handle(e, `{"jsonrpc":"2.0","method":"m","id":1}`); got != `{"jsonrpc":"2.0","result":"ok","id":1}` {
		t.Errorf("got %s", got)
	}
	if got := strings.Join(trace, " "); got != "g1> g2> m1> h <m1 <g2 <g1" {
		t.Errorf("order: %s", got)
	}
	if got := handle(e, `{"jsonrpc":"2.0","method":"closed","id":1}`); got != `{"jsonrpc":"2.0","error":{"code":-32004,"message":"denied"},"id":1}` {
		t.Errorf("middleware answering for the handler: %s", got)
	}
}

// TestBatchOfMixedMethods: the method a Call remembers from item to item
// never answers for another name, an unknown one included.
func TestBatchOfMixedMethods(t *testing.T) {
	e := newDemo(t)
	in := `[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"ad","id":2},` +
		`{"jsonrpc":"2.0","method":"echo","params":["x"],"id":3},{"jsonrpc":"2.0","method":"add","params":{"b":2,"a":5},"id":4},` +
		`{"jsonrpc":"2.0","method":"addx","id":5},{"jsonrpc":"2.0","method":"add","params":[0.5,0.25],"id":6}]`
	want := `[{"jsonrpc":"2.0","result":3,"id":1},{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":2},` +
		`{"jsonrpc":"2.0","result":"x","id":3},{"jsonrpc":"2.0","result":7,"id":4},` +
		`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":5},{"jsonrpc":"2.0","result":0.75,"id":6}]`
	for range 3 { // the pooled Call keeps what it remembered between requests
		if got := handle(e, in); got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	}
}

// TestFieldNamesWithBackslashes: a name holding a backslash is matched by
// its decoded form only, never by the raw bytes of an escaped key.
func TestFieldNamesWithBackslashes(t *testing.T) {
	e := engine.New()
	must(t, engine.Register(e, "f", func(_ context.Context, p struct {
		//lint:ignore SA5008 a name with a backslash is what this test is about
		Odd int `json:"a\\b"`
	}) (int, error) {
		return p.Odd, nil
	}))
	for _, tt := range []struct{ params, want string }{
		{`{"a\\b":1}`, `{"jsonrpc":"2.0","result":1,"id":1}`}, // the JSON key is a\b
		{`{"a\b":1}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"missing param \"a\\\\b\""},"id":1}`},
	} {
		if got := handle(e, `{"jsonrpc":"2.0","method":"f","params":`+tt.params+`,"id":1}`); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.params, got, tt.want)
		}
	}
}

// TestLongFirstParam: when the first params element is a long string, the
// parse records where it ends and the typed decoders read it from there
// instead of scanning it again; the params decode as they would otherwise,
// by position and by name, for a scalar and a struct, escapes and UTF-8
// included, and with the long string elsewhere than first.
func TestLongFirstParam(t *testing.T) {
	e := newDemo(t)
	type pair struct {
		S string `json:"s"`
		N int    `json:"n"`
	}
	must(t, engine.Register(e, "pair", func(_ context.Context, p pair) (string, error) { return p.S + "/" + strconv.Itoa(p.N), nil }))
	must(t, engine.Register(e, "upper", func(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }, engine.ParamNames("s")))
	long := strings.Repeat(`a\"é\u00e9`, 12) // escapes and UTF-8: what a scan must step over
	var text string
	must(t, json.Unmarshal([]byte(`"`+long+`"`), &text))
	quoted := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	for _, tt := range []struct{ method, params, want string }{
		{"echo", `["` + long + `"]`, `"` + long + `"`},
		{"echo", `{"message":"` + long + `"}`, `"` + long + `"`},
		{"upper", `["` + long + `"]`, quoted(strings.ToUpper(text))},
		{"upper", `{"s":"` + long + `"}`, quoted(strings.ToUpper(text))},
		{"pair", `["` + long + `",7]`, quoted(text + "/7")},
		{"pair", `{"s":"` + long + `","n":7}`, quoted(text + "/7")},
		{"pair", `{"n":7,"s":"` + long + `"}`, quoted(text + "/7")},
		{"pair", `[ "` + long + `" , 7 ]`, quoted(text + "/7")},
	} {
		got := handle(e, `{"jsonrpc":"2.0","method":"`+tt.method+`","params":`+tt.params+`,"id":1}`)
		if want := `{"jsonrpc":"2.0","result":` + tt.want + `,"id":1}`; got != want {
			t.Errorf("%s %.40s…: got %s, want %s", tt.method, tt.params, got, want)
		}
	}
}

// TestParamsDoNotOutliveTheirCall checks that a call never sees the params
// of the call before it on the same pooled Call: not after that call's
// handler panicked, and not after its params failed to decode half-way.
func TestParamsDoNotOutliveTheirCall(t *testing.T) {
	e := engine.New(engine.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	type opt struct {
		A float64 `json:"a,omitempty"`
		B int     `json:"b,omitempty"`
	}
	must(t, engine.Register(e, "a", func(_ context.Context, p opt) (float64, error) {
		if p.B == 1 {
			panic("b is 1")
		}
		return p.A, nil
	}))
	for _, tt := range []struct{ name, first, want string }{
		{"after a panic", `{"a":5,"b":1}`, `{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}`},
		{"after a decode error", `{"a":5,"b":"x"}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"param \"b\": `},
	} {
		// The items of a batch share one Call, so both calls use one slot.
		got := handle(e, `[{"jsonrpc":"2.0","method":"a","params":`+tt.first+`,"id":1},{"jsonrpc":"2.0","method":"a","params":{},"id":2}]`)
		if !strings.HasPrefix(got, "["+tt.want) {
			t.Errorf("%s: first answer of %s, want %s…", tt.name, got, tt.want)
		}
		if !strings.HasSuffix(got, `{"jsonrpc":"2.0","result":0,"id":2}]`) {
			t.Errorf("%s: second call saw the first's params: %s", tt.name, got)
		}
	}
}
