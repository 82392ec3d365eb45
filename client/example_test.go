package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"time"

	"github.com/jetrpc/jetrpc/client"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/nethttp"
	"github.com/jetrpc/jetrpc/stream"
)

// Dial, then one call; WithTrace shows what went over the wire.
func Example() {
	e := engine.New()
	engine.Register(e, "add", func(_ context.Context, p [2]float64) (float64, error) { return p[0] + p[1], nil })
	srv := httptest.NewServer(nethttp.New(e, nethttp.Config{}))
	defer srv.Close()

	c, err := client.Dial(srv.URL, client.WithTrace(os.Stdout))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	sum, err := client.CallFor[float64](context.Background(), c, "add", []float64{1, 2.5})
	fmt.Println(sum, err)
	// Output:
	// --> {"jsonrpc":"2.0","method":"add","params":[1,2.5],"id":1}
	// <-- {"jsonrpc":"2.0","result":3.5,"id":1} (200 OK)
	// 3.5 <nil>
}

// A batch: one request, each call's answer or error in its BatchCall.
func ExampleBatch() {
	e := engine.New()
	engine.Register(e, "double", func(_ context.Context, n int) (int, error) { return 2 * n, nil })
	srv := httptest.NewServer(nethttp.New(e, nethttp.Config{}))
	defer srv.Close()

	c, err := client.Dial(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	b := c.NewBatch()
	var two, four int
	b.Call("double", []int{1}, &two)
	b.Call("double", []int{2}, &four)
	bad := b.Call("double", []string{"x"}, nil)
	b.Notify("double", []int{3})
	if err := b.Send(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(two, four)
	fmt.Println(bad.Err)
	// Output:
	// 2 4
	// jsonrpc error -32602: Invalid params: param "value": cannot use string as int
}

// A subscription over a persistent connection that is redialled when it
// is lost: the subscription ends with ErrConnectionLost, and subscribing
// again is the caller's decision (a call in flight then is never retried:
// it may have run).
func ExampleSubscribe() {
	e := engine.New()
	engine.RegisterSubscription(e, "clock", "countdown", func(ctx context.Context, from int, sub *engine.Subscription[int]) error {
		for i := from; i > 0; i-- {
			if err := sub.Send(i); err != nil {
				return nil
			}
		}
		return nil
	})
	srv := stream.New(e, stream.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	c, err := client.Dial("tcp://"+ln.Addr().String(), client.WithReconnect(100*time.Millisecond, 10*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for {
		sub, err := client.Subscribe[int](ctx, c, "clock", "countdown", 3)
		if err != nil {
			log.Fatal(err) // the server refused, or ctx ended while redialling
		}
		for v := range sub.Values() {
			fmt.Println(v)
			if v == 1 {
				sub.Unsubscribe(ctx) // the countdown is over: Values closes
			}
		}
		if err := <-sub.Err(); errors.Is(err, client.ErrConnectionLost) {
			continue // the connection is being redialled: subscribe again
		}
		break // unsubscribed, or the consumer fell behind
	}
	// Output:
	// 3
	// 2
	// 1
}
