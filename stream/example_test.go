package stream_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/stream"
)

// A subscription and a notification pushed by a method, served over a
// line-framed TCP stream; the client is plain net and bufio.
func Example_subscriptions() {
	e := engine.New()
	// countdown sends from, from-1, …, 1 to its subscriber, then ends.
	err := engine.RegisterSubscription(e, "clock", "countdown", func(ctx context.Context, from int, sub *engine.Subscription[int]) error {
		for i := from; i > 0; i-- {
			if err := sub.Send(i); err != nil {
				return nil // unsubscribed, or the connection is gone
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// hello pushes a notification to its caller before answering (over
	// plain HTTP, Notify returns engine.ErrNoPeer).
	err = engine.RegisterNoParams(e, "hello", func(ctx context.Context) (string, error) {
		return "hello", engine.PeerFrom(ctx).Notify("greeted", []string{"you"})
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := stream.New(e, stream.Config{Framing: stream.Line})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	lines := bufio.NewScanner(conn)
	fmt.Fprintln(conn, `{"jsonrpc":"2.0","method":"hello","id":1}`)
	for range 2 {
		lines.Scan()
		fmt.Println(lines.Text())
	}
	fmt.Fprintln(conn, `{"jsonrpc":"2.0","method":"clock_subscribe","params":["countdown",3],"id":2}`)
	for range 4 { // the answer (the subscription's id), then 3 notifications
		lines.Scan()
		var m struct {
			Result json.RawMessage
			Params struct{ Result int }
		}
		_ = json.Unmarshal(lines.Bytes(), &m)
		if m.Result != nil {
			fmt.Println("subscribed")
		} else {
			fmt.Println("tick", m.Params.Result)
		}
	}
	// Output:
	// {"jsonrpc":"2.0","method":"greeted","params":["you"]}
	// {"jsonrpc":"2.0","result":"hello","id":1}
	// subscribed
	// tick 3
	// tick 2
	// tick 1
}
