package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/demo"
)

// recorder is an Observer and a Middleware that writes down every outcome
// it sees as "method code" (code 0 for success), so that a test can check
// each request is seen exactly once.
type recorder struct {
	mu      sync.Mutex
	seen    []string
	batches []int
}

func (r *recorder) note(s string) {
	r.mu.Lock()
	r.seen = append(r.seen, s)
	r.mu.Unlock()
}

func (r *recorder) ObserveBatch(items int) {
	r.mu.Lock()
	r.batches = append(r.batches, items)
	r.mu.Unlock()
}

func (r *recorder) ObserveRejected(_ context.Context, rj engine.Rejection) {
	method := "-"
	if rj.Registered {
		method = string(rj.Method)
	} else if rj.Method != nil {
		method = "?" + string(rj.Method)
	}
	r.note(fmt.Sprintf("%s %d id=%s", method, rj.Error.Code, rj.ID))
}

func (r *recorder) middleware(next engine.Handler) engine.Handler {
	return func(c *engine.Call) error {
		err := next(c)
		var code codec.Code
		if ce := engine.ErrorOf(err); ce != nil {
			code = ce.Code
		}
		r.note(fmt.Sprintf("%s %d id=%s", c.Method(), code, c.ID()))
		return err
	}
}

func TestObserverSeesEveryOutcome(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		opts    []engine.Option
		in      string
		seen    []string
		batches []int
	}{
		{name: "call", in: `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`, seen: []string{"add 0 id=1"}},
		{name: "spec: method not found", in: `{"jsonrpc": "2.0", "method": "foobar", "id": "1"}`, seen: []string{`?foobar -32601 id="1"`}},
		{name: "unknown notification", in: `{"jsonrpc":"2.0","method":"nope"}`, seen: []string{"?nope -32601 id="}},
		{name: "spec: invalid JSON", in: `{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`, seen: []string{"- -32700 id="}},
		{name: "spec: invalid request object", in: `{"jsonrpc": "2.0", "method": 1, "params": "bar"}`, seen: []string{"- -32600 id="}},
		{name: "spec: empty array", in: `[]`, seen: []string{"- -32600 id="}},
		{name: "spec: invalid batch", in: `[1,2]`, seen: []string{"- -32600 id=", "- -32600 id="}, batches: []int{2}},
		{name: "panic", in: `{"jsonrpc":"2.0","method":"panics","id":7}`, seen: []string{"panics -32603 id=7"}},
		{name: "error", in: `{"jsonrpc":"2.0","method":"fail","id":2}`, seen: []string{"fail 1000 id=2"}},
		{
			name: "batch over the limit", opts: []engine.Option{engine.WithMaxBatchItems(2)},
			in:   `[{"jsonrpc":"2.0","method":"ping","id":1},{"jsonrpc":"2.0","method":"ping","id":2},{"jsonrpc":"2.0","method":"ping","id":3}]`,
			seen: []string{"- -32600 id="}, batches: []int{3},
		},
		{
			name: "batch past its answer budget", opts: []engine.Option{engine.WithMaxBatchResponseBytes(10)},
			in:   `[{"jsonrpc":"2.0","method":"ping","id":1},{"jsonrpc":"2.0","method":"ping","id":2},{"jsonrpc":"2.0","method":"zzz","id":3}]`,
			seen: []string{"ping 0 id=1", "ping -32003 id=2", "?zzz -32003 id=3"}, batches: []int{3},
		},
		{
			name: "request over before the call", ctx: cancelled,
			in:   `[{"jsonrpc":"2.0","method":"ping","id":1},{"jsonrpc":"2.0","method":"ping"}]`,
			seen: []string{"ping -32000 id=1", "ping -32000 id="}, batches: []int{2},
		},
		{
			name: "concurrent batch over before the calls", ctx: cancelled, opts: []engine.Option{engine.WithBatchConcurrency(4)},
			in: `[{"jsonrpc":"2.0","method":"ping","id":1},{"jsonrpc":"2.0","method":"nope","id":2}]`,
			// As in a serial batch: an unknown method is not found, not cancelled.
			seen: []string{"ping -32000 id=1", "?nope -32601 id=2"}, batches: []int{2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			opts := append([]engine.Option{engine.WithObserver(rec), engine.WithMiddleware(rec.middleware)}, tc.opts...)
			e := newDemo(t, opts...)
			must(t, e.RegisterRaw("panics", func(*engine.Call) error { panic("boom") }))
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			e.Append(ctx, nil, []byte(tc.in))
			if got, want := strings.Join(rec.seen, "; "), strings.Join(tc.seen, "; "); got != want {
				t.Errorf("seen:\n got  %s\n want %s", got, want)
			}
			if fmt.Sprint(rec.batches) != fmt.Sprint(tc.batches) {
				t.Errorf("batches %v, want %v", rec.batches, tc.batches)
			}
		})
	}
}

// A panic is answered -32603 with middleware as without, and a panicking
// middleware too.
func TestPanicThroughMiddleware(t *testing.T) {
	boom := func(engine.Handler) engine.Handler { return func(*engine.Call) error { panic("middleware") } }
	e := newDemo(t, engine.WithMiddleware(func(next engine.Handler) engine.Handler { return next }))
	must(t, e.RegisterRaw("panics", func(*engine.Call) error { panic("boom") }))
	must(t, e.RegisterRaw("wrapped", func(*engine.Call) error { return nil }, engine.Use(boom)))
	want := `{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":1}`
	for _, m := range []string{"panics", "wrapped"} {
		if got := handle(e, `{"jsonrpc":"2.0","method":"`+m+`","id":1}`); got != want {
			t.Errorf("%s: %s", m, got)
		}
	}
}

// A Call's Span is zero as each request starts, is kept from one item of a
// batch to the next, and has End called once as the request ends when
// calls are pending; items run concurrently have a Span each.
func TestSpan(t *testing.T) {
	var mu sync.Mutex
	var starts []string // the Span each request's first call found: "Start/Calls/Owner"
	var ends []string   // per request ended: the methods its Span counted
	end := func(s *engine.Span) {
		mu.Lock()
		ends = append(ends, s.Owner.(string))
		mu.Unlock()
	}
	timing := func(next engine.Handler) engine.Handler {
		return func(c *engine.Call) error {
			s := c.Span()
			if s.End == nil {
				mu.Lock()
				starts = append(starts, fmt.Sprintf("%d/%d/%v", s.Start, s.Calls, s.Owner))
				mu.Unlock()
				s.Start, s.End, s.Owner = 1, end, ""
			}
			err := next(c)
			if string(c.Method()) != "quiet" { // a call left out of the Span: End sees none pending
				s.Calls++
				s.Owner = s.Owner.(string) + string(c.Method())[:1]
			}
			return err
		}
	}
	for _, tc := range []struct {
		name       string
		concurrent int
		in         string
		starts     int
		ends       []string
	}{
		{"lone call", 0, `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`, 1, []string{"a"}},
		{"notification", 0, `{"jsonrpc":"2.0","method":"echo","params":["x"]}`, 1, []string{"e"}},
		{"batch", 0, `[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"nope","id":2},` +
			`{"jsonrpc":"2.0","method":"echo","params":["x"],"id":3},{"jsonrpc":"2.0","method":"add","params":[1,2]}]`, 1, []string{"aea"}},
		{"nothing pending", 0, `{"jsonrpc":"2.0","method":"quiet","id":1}`, 1, nil},
		{"no call ran", 0, `[{"jsonrpc":"2.0","method":"nope","id":1},1]`, 0, nil},
		{"concurrent items", 2, `[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"echo","params":["x"],"id":2},` +
			`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":3}]`, 3, []string{"a", "a", "e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := engine.New(engine.WithMiddleware(timing), engine.WithBatchConcurrency(tc.concurrent))
			if err := demo.Register(e); err != nil {
				t.Fatal(err)
			}
			if err := e.RegisterRaw("quiet", func(*engine.Call) error { return nil }); err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second request reuses the first one's Call
				starts, ends = nil, nil
				e.Append(context.Background(), nil, []byte(tc.in))
				if len(starts) != tc.starts {
					t.Errorf("%d requests started, want %d", len(starts), tc.starts)
				}
				for _, s := range starts {
					if s != "0/0/<nil>" {
						t.Errorf("a request started with Span %s, want a zero one", s)
					}
				}
				slices.Sort(ends)
				if !slices.Equal(ends, tc.ends) {
					t.Errorf("ended %q, want %q", ends, tc.ends)
				}
			}
		})
	}
}
