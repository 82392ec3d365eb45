package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
)

func TestErrorOf(t *testing.T) {
	coded := codec.NewError(42, "coded")
	tests := []struct {
		name string
		err  error
		want *codec.Error
	}{
		{"nil", nil, nil},
		{"a codec error", coded, coded},
		{"a wrapped codec error", fmt.Errorf("outer: %w", coded), coded},
		{"a codec error beats the context error it sits beside", errors.Join(context.Canceled, coded), coded},
		{"context.Canceled", context.Canceled, engine.ErrCallCancelled},
		{"wrapped context.Canceled", fmt.Errorf("query: %w", context.Canceled), engine.ErrCallCancelled},
		{"context.DeadlineExceeded", context.DeadlineExceeded, engine.ErrCallTimeout},
		{"wrapped context.DeadlineExceeded", fmt.Errorf("query: %w", context.DeadlineExceeded), engine.ErrCallTimeout},
		{"any other error", errors.New("secret detail"), codec.ErrInternal},
	}
	for _, tt := range tests {
		if got := engine.ErrorOf(tt.err); got != tt.want {
			t.Errorf("%s: ErrorOf = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestCallsDoNotStartAfterTheRequestEnds: once the request's context is
// done, the calls of a batch that have not started are answered at once
// with the error for that end (cancelled or timed out), in order, and
// notifications among them are neither run nor answered.
func TestCallsDoNotStartAfterTheRequestEnds(t *testing.T) {
	for _, workers := range []int{0, 4} {
		for _, end := range []struct {
			err  error
			want string
		}{
			{context.Canceled, `{"code":-32000,"message":"call cancelled"}`},
			{context.DeadlineExceeded, `{"code":-32001,"message":"call timed out"}`},
		} {
			t.Run(fmt.Sprintf("%v/workers=%d", end.err, workers), func(t *testing.T) {
				e := engine.New(engine.WithBatchConcurrency(workers))
				ctx := &endable{Context: context.Background(), done: make(chan struct{})}
				var mu sync.Mutex
				var ran []string
				step := func(c *engine.Call) error {
					mu.Lock()
					ran = append(ran, string(c.ID()))
					mu.Unlock()
					return c.ResultString("ok")
				}
				must(t, e.RegisterRaw("step", step))
				must(t, e.RegisterRaw("end", func(c *engine.Call) error {
					ctx.end(end.err) // the client leaves, or the deadline passes, during call 2
					return step(c)
				}))
				batch := `[{"jsonrpc":"2.0","method":"step","id":1},{"jsonrpc":"2.0","method":"end","id":2},` +
					`{"jsonrpc":"2.0","method":"step"},{"jsonrpc":"2.0","method":"step","id":3},{"jsonrpc":"2.0","method":"nope","id":4}]`
				got := string(e.Append(ctx, nil, []byte(batch)))
				wantTail := `{"jsonrpc":"2.0","error":` + end.want + `,"id":3},` +
					`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":4}]`
				if workers > 0 {
					// A concurrent batch may start calls before call 2 ends the
					// request: only the shape of what follows is pinned.
					if !strings.HasSuffix(got, `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":4}]`) {
						t.Errorf("got %s", got)
					}
					return
				}
				if want := `[{"jsonrpc":"2.0","result":"ok","id":1},{"jsonrpc":"2.0","result":"ok","id":2},` + wantTail; got != want {
					t.Errorf("got  %s\nwant %s", got, want)
				}
				if strings.Join(ran, " ") != "1 2" {
					t.Errorf("ran %v, want only 1 and 2", ran)
				}
			})
		}
	}
}

// endable is a context the test ends with err mid-request, as a transport
// ends a request whose client left or whose deadline passed.
type endable struct {
	context.Context
	done chan struct{}
	err  error
}

func (c *endable) Done() <-chan struct{} { return c.done }

func (c *endable) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

func (c *endable) end(err error) { c.err = err; close(c.done) }

func TestTypedNumbersThatOverflow(t *testing.T) {
	e := newDemo(t)
	tests := []struct{ in, want string }{
		{`{"jsonrpc":"2.0","method":"add","params":[1e308,1e308],"id":1}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"the result overflows to +Inf, which JSON cannot represent"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"add","params":[1e400,1],"id":1}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"param \"a\": cannot use 1e400 as float64: out of range"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"sleep","params":{"ms":9223372036854775807},"id":1}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"ms must be between 0 and 60000"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"sleep","params":{"ms":9223372036854775808},"id":1}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"param \"ms\": cannot use 9223372036854775808 as int64"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"sleep","params":{"ms":60001},"id":1}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"ms must be between 0 and 60000"},"id":1}`},
	}
	for _, tt := range tests {
		if got := handle(e, tt.in); got != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.in, got, tt.want)
		}
	}
}
