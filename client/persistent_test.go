package client_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/client"
	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/jetrpc/jetrpc/stream"
)

// persistentServers serves the demo methods over every persistent
// transport and returns a dialler per transport: WebSocket (fastserver's
// upgrade), line- and header-framed TCP, a unix socket, and a stream over
// pipes (NewStream).
func persistentServers(t testing.TB) map[string]func(opts ...client.Option) *client.Client {
	t.Helper()
	e := testserver.Demo(t)
	ws := testserver.Loopback(t, e)
	streamURL := func(f stream.Framing, network string) string {
		srv := stream.New(e, stream.Config{Framing: f, Logger: testserver.Quiet})
		var ln net.Listener
		var err error
		if network == "unix" {
			ln, err = net.Listen("unix", filepath.Join(t.TempDir(), "s.sock"))
		} else {
			ln, err = net.Listen("tcp", "127.0.0.1:0")
		}
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { shutdownNow(srv) })
		if network == "unix" {
			return "unix://" + ln.Addr().String()
		}
		return "tcp://" + ln.Addr().String() + "?framing=" + f.String()
	}
	urls := map[string]string{
		"ws":          "ws://" + ws + fastserver.DefaultPath,
		"tcp/line":    streamURL(stream.Line, "tcp"),
		"tcp/header":  streamURL(stream.Header, "tcp"),
		"unix/line":   streamURL(stream.Line, "unix"),
		"stdio/lines": "",
	}
	dial := map[string]func(opts ...client.Option) *client.Client{}
	for name, url := range urls {
		dial[name] = func(opts ...client.Option) *client.Client {
			t.Helper()
			var c *client.Client
			var err error
			if url == "" { // a stream over pipes, as a child process's stdio is
				srv := stream.New(e, stream.Config{Logger: testserver.Quiet})
				inR, inW, perr := os.Pipe()
				must(t, perr)
				outR, outW, perr := os.Pipe()
				must(t, perr)
				go func() { _ = srv.ServeConn(stream.Pipe(inR, outW)) }()
				t.Cleanup(func() { shutdownNow(srv) }) // after the client closes (cleanups run last first)
				c, err = client.NewStream(stream.Pipe(outR, inW), "line", opts...)
			} else {
				c, err = client.Dial(url, opts...)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		}
	}
	return dial
}

// shutdownNow shuts srv down, cancelling the calls still running (a call
// whose client gave up, such as a sleep) after a moment, and returns once
// every connection's goroutines have ended, so that none outlives the test
// (one answering during the examples raced with their os.Stdout swap,
// which go-json's Encoder reads).
func shutdownNow(srv *stream.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPersistentTransports runs the client's calls over every persistent
// transport: concurrent calls from 16 goroutines on one connection,
// answers out of order, a batch, a notification, a subscription, and
// cancellation.
func TestPersistentTransports(t *testing.T) {
	for name, dial := range persistentServers(t) {
		t.Run(name, func(t *testing.T) {
			c := dial(client.WithTimeout(5 * time.Second))
			ctx := context.Background()

			var wg sync.WaitGroup
			for g := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 50 {
						sum, err := client.CallFor[int](ctx, c, "add", []int{g, i})
						if err != nil || sum != g+i {
							t.Errorf("add %d+%d: %d %v", g, i, sum, err)
							return
						}
					}
				}()
			}
			wg.Wait()

			// Out of order: the ping sent after a sleep answers first.
			slow := c.Go(ctx, "sleep", []int{300}, nil)
			time.Sleep(20 * time.Millisecond)
			start := time.Now()
			if pong, err := client.CallFor[string](ctx, c, "ping", nil); err != nil || pong != "pong" {
				t.Fatalf("ping: %q %v", pong, err)
			}
			if d := time.Since(start); d > 150*time.Millisecond {
				t.Errorf("the ping waited %v behind the sleep", d)
			}
			select {
			case <-slow.Done:
				t.Error("the sleep answered before the ping")
			default:
			}
			must(t, slow.Wait())

			b := c.NewBatch()
			var x, y float64
			b.Call("add", []int{1, 2}, &x)
			b.Notify("ping", nil)
			b.Call("add", map[string]float64{"a": 0.5, "b": 0.25}, &y)
			failed := b.Call("fail", nil, nil)
			must(t, b.Send(ctx))
			var rpcErr *codec.Error
			if x != 3 || y != 0.75 || !errors.As(failed.Err, &rpcErr) || rpcErr.Code != 1000 {
				t.Errorf("batch: %v %v %v", x, y, failed.Err)
			}
			nb := c.NewBatch()
			nb.Notify("ping", nil)
			must(t, nb.Send(ctx)) // notifications only: nothing owed
			must(t, c.Notify(ctx, "ping", nil))

			sub, err := client.Subscribe[int](ctx, c, "demo", "ticks", 5)
			must(t, err)
			if !strings.HasPrefix(sub.ID(), "0x") {
				t.Errorf("subscription id %q", sub.ID())
			}
			var got []int
			for v := range sub.Values() {
				got = append(got, v)
				if len(got) == 5 {
					must(t, sub.Unsubscribe(ctx))
				}
			}
			if fmt.Sprint(got) != "[1 2 3 4 5]" || <-sub.Err() != nil {
				t.Errorf("ticks %v", got)
			}

			cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			start = time.Now()
			err = c.Call(cctx, "sleep", []int{5000}, nil)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
				t.Errorf("cancelled call: %v after %v", err, time.Since(start))
			}
			if _, err := client.Subscribe[int](ctx, c, "demo", "nope"); !errors.As(err, &rpcErr) || rpcErr.Code != -32601 {
				t.Errorf("unknown subscription: %v", err)
			}
		})
	}
}

// TestSlowSubscriber: a subscriber that does not take its values ends
// with ErrSubscriptionOverflow once its buffer is full, and the
// connection's calls go on meanwhile.
func TestSlowSubscriber(t *testing.T) {
	for name, dial := range persistentServers(t) {
		t.Run(name, func(t *testing.T) {
			c := dial(client.WithSubscriptionBuffer(3), client.WithTimeout(5*time.Second))
			ctx := context.Background()
			sub, err := client.Subscribe[int](ctx, c, "demo", "ticks", 100)
			must(t, err)
			for range 5 {
				if _, err := client.CallFor[string](ctx, c, "ping", nil); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case err := <-sub.Err():
				if !errors.Is(err, client.ErrSubscriptionOverflow) {
					t.Fatalf("ended with %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the subscription of a consumer that does not read did not end")
			}
			n := 0
			for range sub.Values() {
				n++
			}
			if n != 3 {
				t.Errorf("%d values kept, want the buffer's 3", n)
			}
			if _, err := client.CallFor[string](ctx, c, "ping", nil); err != nil {
				t.Errorf("after the overflow: %v", err)
			}
		})
	}
}

// TestSubscribeOverHTTP: subscriptions need a persistent connection.
func TestSubscribeOverHTTP(t *testing.T) {
	c := client.New(demoServer(t)["fasthttp/inmemory"])
	if _, err := client.Subscribe[int](context.Background(), c, "demo", "ticks", 1); !errors.Is(err, client.ErrNotPersistent) {
		t.Errorf("got %v, want ErrNotPersistent", err)
	}
}

// TestReconnect: when the server goes away, the calls in flight fail at
// once with ErrConnectionLost and the subscriptions end with it; once it
// is back, a call succeeds on the redialled connection.
func TestReconnect(t *testing.T) {
	for _, kind := range []string{"tcp", "ws"} {
		t.Run(kind, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			must(t, err)
			addr := ln.Addr().String()
			start := func(ln net.Listener) func() {
				e := testserver.Demo(t)
				if kind == "ws" {
					srv := fastserver.New(e, fastserver.Config{Logger: testserver.Quiet})
					go func() { _ = srv.Serve(ln) }()
					return func() {
						ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
						defer cancel()
						_ = srv.Shutdown(ctx)
					}
				}
				srv := stream.New(e, stream.Config{})
				go func() { _ = srv.Serve(ln) }()
				return func() {
					ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
					defer cancel()
					_ = srv.Shutdown(ctx)
				}
			}
			stop := start(ln)
			url := "tcp://" + addr
			if kind == "ws" {
				url = "ws://" + addr + fastserver.DefaultPath
			}
			c, err := client.Dial(url, client.WithReconnect(10*time.Millisecond, 50*time.Millisecond), client.WithTimeout(5*time.Second))
			must(t, err)
			defer c.Close()
			ctx := context.Background()
			sub, err := client.Subscribe[int](ctx, c, "demo", "ticks", 100000)
			must(t, err)
			inFlight := c.Go(ctx, "sleep", []int{10000}, nil)
			time.Sleep(50 * time.Millisecond)
			began := time.Now()
			stop() // the grace is shorter than the sleep: the call is cancelled or lost
			err = inFlight.Wait()
			var rpcErr *codec.Error
			if !errors.Is(err, client.ErrConnectionLost) && !(errors.As(err, &rpcErr) && rpcErr.Code == -32000) {
				t.Errorf("call in flight: %v, want ErrConnectionLost or cancelled", err)
			}
			if time.Since(began) > 3*time.Second {
				t.Errorf("the call in flight took %v to fail", time.Since(began))
			}
			select {
			case err := <-sub.Err():
				if !errors.Is(err, client.ErrConnectionLost) {
					t.Errorf("subscription ended with %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("the subscription did not end with its connection")
			}
			ln2, err := net.Listen("tcp", addr)
			must(t, err)
			defer start(ln2)()
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if pong, err := client.CallFor[string](cctx, c, "ping", nil); err != nil || pong != "pong" {
				t.Errorf("after the restart: %q %v", pong, err)
			}
		})
	}
}

// TestNotificationHandler: server notifications that are no
// subscription's reach the handler.
func TestNotificationHandler(t *testing.T) {
	e := engine.New()
	must(t, engine.RegisterNoParams(e, "hello", func(ctx context.Context) (string, error) {
		return "hi", engine.PeerFrom(ctx).Notify("greeted", []string{"you"})
	}))
	srv := stream.New(e, stream.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Shutdown(context.Background())
	got := make(chan string, 1)
	c, err := client.Dial("tcp://"+ln.Addr().String(), client.WithNotificationHandler(func(method string, params []byte) {
		got <- method + " " + string(params)
	}))
	must(t, err)
	defer c.Close()
	if hi, err := client.CallFor[string](context.Background(), c, "hello", nil); err != nil || hi != "hi" {
		t.Fatalf("hello: %q %v", hi, err)
	}
	select {
	case n := <-got:
		if n != `greeted ["you"]` {
			t.Errorf("handler got %s", n)
		}
	case <-time.After(2 * time.Second):
		t.Error("the notification did not reach the handler")
	}
}

// TestPersistentStringIDs: a server that turns ids into strings ("7") is
// understood on a persistent connection as over HTTP.
func TestPersistentStringIDs(t *testing.T) {
	clientEnd, serverEnd := net.Pipe()
	go func() {
		r := bufio.NewReader(serverEnd)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			var req struct{ ID json.Number }
			_ = json.Unmarshal([]byte(line), &req)
			fmt.Fprintf(serverEnd, `{"jsonrpc":"2.0","result":"pong","id":"%s"}`+"\n", req.ID)
		}
	}()
	c, err := client.NewStream(clientEnd, "line", client.WithTimeout(5*time.Second))
	must(t, err)
	defer c.Close()
	if pong, err := client.CallFor[string](context.Background(), c, "ping", nil); err != nil || pong != "pong" {
		t.Errorf("got %q %v", pong, err)
	}
}
