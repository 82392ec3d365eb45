package engine_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jetrpc/jetrpc/engine"
)

// pushed records what a Peer pushes.
type pushed struct {
	mu   sync.Mutex
	msgs []string
}

func (p *pushed) Push(msg []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, string(msg))
	return nil
}

func TestPeerNotify(t *testing.T) {
	if err := engine.PeerFrom(context.Background()).Notify("x", nil); !errors.Is(err, engine.ErrNoPeer) {
		t.Errorf("over HTTP: %v, want ErrNoPeer", err)
	}
	rec := &pushed{}
	p := engine.NewPeer(context.Background(), rec)
	ctx := p.Context()
	if engine.PeerFrom(ctx) != p {
		t.Fatal("PeerFrom does not find the peer in its context")
	}
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	if engine.PeerFrom(child) != p {
		t.Fatal("PeerFrom does not find the peer in a derived context")
	}
	for _, tc := range []struct {
		notify func() error
		want   string
	}{
		{func() error { return p.Notify("a", nil) }, `{"jsonrpc":"2.0","method":"a"}`},
		{func() error { return p.Notify("b", []int{1, 2}) }, `{"jsonrpc":"2.0","method":"b","params":[1,2]}`},
		{func() error { return p.Notify("c\"", map[string]string{"k": "<v>"}) }, `{"jsonrpc":"2.0","method":"c\"","params":{"k":"<v>"}}`},
		{func() error { return p.NotifyRaw("d", []byte(`{"x":1}`)) }, `{"jsonrpc":"2.0","method":"d","params":{"x":1}}`},
	} {
		if err := tc.notify(); err != nil {
			t.Fatal(err)
		}
		if got := rec.msgs[len(rec.msgs)-1]; got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
	if err := p.NotifyRaw("e", []byte(`{"x":`)); err == nil {
		t.Error("NotifyRaw sent invalid JSON")
	}
	p.Close()
	if err := p.Notify("f", nil); !errors.Is(err, engine.ErrPeerClosed) {
		t.Errorf("after Close: %v, want ErrPeerClosed", err)
	}
	if ctx.Err() == nil {
		t.Error("the peer's context is not done after Close")
	}
}

func TestRegisterSubscriptionRefuses(t *testing.T) {
	e := engine.New()
	fn := func(context.Context, int, *engine.Subscription[int]) error { return nil }
	must(t, engine.RegisterSubscription(e, "ns", "a", fn))
	must(t, engine.RegisterSubscription(e, "ns", "b", fn)) // a second name in the namespace
	must(t, e.RegisterRaw("taken_subscribe", func(c *engine.Call) error { return nil }))
	for name, err := range map[string]error{
		"twice":         engine.RegisterSubscription(e, "ns", "a", fn),
		"nil function":  engine.RegisterSubscription[int, int](e, "ns", "c", nil),
		"empty name":    engine.RegisterSubscription(e, "ns", "", fn),
		"taken method":  engine.RegisterSubscription(e, "taken", "x", fn),
		"unsupported T": engine.RegisterSubscription(e, "ns2", "x", func(context.Context, int, *engine.Subscription[chan int]) error { return nil }),
	} {
		if err == nil {
			t.Errorf("%s: registered", name)
		}
	}
	// Over plain HTTP (no peer), subscribing answers -32601.
	got := string(e.Append(context.Background(), nil, []byte(`{"jsonrpc":"2.0","method":"ns_subscribe","params":["a",1],"id":1}`)))
	if want := `{"jsonrpc":"2.0","error":{"code":-32601,"message":"notifications not supported"},"id":1}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
