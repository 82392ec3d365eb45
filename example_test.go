package jetrpc_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/jetrpc/jetrpc/client"
	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/metrics"
	"github.com/jetrpc/jetrpc/middleware"
)

// The jsonrpclib-pelix scenario: a function registered under a name,
// introspection, a path, a clean stop on Ctrl-C. Compiled, not run: it
// serves until interrupted.
func Example_helloServer() {
	e := engine.New(engine.WithIntrospection())
	engine.RegisterNoParams(e, "hello", func(context.Context) (string, error) { return "Hello", nil })
	srv := fastserver.New(e, fastserver.Config{Addr: "127.0.0.1:8080", Path: "/json-rpc"})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := srv.Run(ctx, 10*time.Second); err != nil {
		log.Fatal(err)
	}
}

// AddParams is add's params: [a, b] or {"a": a, "b": b}.
type AddParams struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// Example_embedding registers each kind of method and serves them.
// Compiled, not run: it serves until interrupted.
func Example_embedding() {
	e := engine.New()
	// Typed: params by name ({"a":1,"b":2}) or by position ([1,2]).
	engine.Register(e, "add", func(ctx context.Context, p AddParams) (float64, error) {
		return p.A + p.B, nil
	})
	// No params, or no result (null), or neither: a shape each.
	engine.RegisterNoParams(e, "hello", func(ctx context.Context) (string, error) { return "Hello", nil })
	engine.RegisterNoResult(e, "log", func(ctx context.Context, msg string) error { return nil }, engine.ParamNames("msg"))
	// Raw: the handler sees the params bytes and sets the result bytes.
	e.RegisterRaw("ping", func(c *engine.Call) error { return c.ResultString("pong") })
	// Errors: return a *codec.Error (or wrap one) to pick code, message and data.
	e.RegisterRaw("teapot", func(*engine.Call) error { return &codec.Error{Code: 418, Message: "I'm a teapot"} })

	srv := fastserver.New(e, fastserver.Config{Addr: "127.0.0.1:8080", Path: "/json-rpc"})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log.Fatal(srv.Run(ctx, 10*time.Second)) // returns once every accepted call was answered
}

// serveDemo serves ping, add and fail on a free port of 127.0.0.1 until
// the returned function is called, and returns the URL.
func serveDemo() (string, func()) {
	e := engine.New()
	engine.RegisterNoParams(e, "ping", func(context.Context) (string, error) { return "pong", nil })
	engine.Register(e, "add", func(_ context.Context, p AddParams) (float64, error) { return p.A + p.B, nil })
	engine.RegisterNoParams(e, "fail", func(context.Context) (any, error) { return nil, &codec.Error{Code: 1000, Message: "fail"} })
	srv := fastserver.New(e, fastserver.Config{Addr: "127.0.0.1:0"})
	lns, err := srv.Listen()
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.RunOn(ctx, time.Second, lns...); close(done) }()
	return "http://" + lns[0].Addr().String() + fastserver.DefaultPath, func() { stop(); <-done }
}

// The jsonrpcclient scenario: sync and async calls, a notification, a
// batch, and an error from the server.
func Example_client() {
	url, stop := serveDemo()
	defer stop()
	ctx := context.Background()

	c, err := client.Dial(url, client.WithHeader("Authorization", "Bearer …"), client.WithTimeout(5*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	pong, err := client.CallFor[string](ctx, c, "ping", nil) // sync, typed
	fmt.Println(pong, err)
	var sum float64
	p := c.Go(ctx, "add", map[string]int{"a": 1, "b": 2}, &sum) // async
	err = p.Wait()                                              // or <-p.Done, then p.Err
	fmt.Println(sum, err)
	err = c.Notify(ctx, "ping", nil) // no answer owed
	b := c.NewBatch()                // one request, answers matched by id
	var x, y float64
	b.Call("add", []int{1, 2}, &x)
	b.Call("add", []float64{0.5, 0.25}, &y)
	failed := b.Call("fail", nil, nil)
	err = b.Send(ctx)
	fmt.Println(x, y, failed.Err, err)
	_, err = client.CallFor[float64](ctx, c, "add", []string{"x", "y"})
	var rpcErr *codec.Error
	fmt.Println(errors.As(err, &rpcErr), int(rpcErr.Code), err)
	// Output:
	// pong <nil>
	// 3 <nil>
	// 3 0.75 jsonrpc error 1000: fail <nil>
	// true -32602 jsonrpc error -32602: Invalid params: param "a": cannot use string as float64
}

// Calc is a service registered whole with RegisterStruct.
type Calc struct{}

// Add adds.
func (Calc) Add(_ context.Context, p AddParams) (float64, error) { return p.A + p.B, nil }

func checkToken(_ context.Context, authorization []byte) error { return nil }

// Example_features shows the engine's options and middleware. Compiled,
// not run.
func Example_features() {
	mux := http.NewServeMux()
	add := func(_ context.Context, p AddParams) (float64, error) { return p.A + p.B, nil }

	m := metrics.New() // Prometheus: calls, errors by code, duration histograms per method; HTTP statuses, bytes, connections
	e := engine.New(
		engine.WithIntrospection(), // system.listMethods, system.methodHelp, system.methodSignature, rpc.discover (OpenRPC 1.3.2)
		engine.WithMiddleware(m.Middleware(), middleware.Logging(slog.Default(), slog.LevelDebug), middleware.Auth(checkToken)),
		engine.WithObserver(m),                // what reaches no method: unknown methods, invalid requests, parse errors
		engine.WithCallTimeout(5*time.Second), // -32001 "call timed out"; the handler's context is cancelled
		engine.WithV1Compat(),                 // JSON-RPC 1.0 requests answered in 1.0 form
	)
	engine.Register(e, "add", add, engine.Describe("adds two numbers"), engine.Timeout(time.Second))
	engine.RegisterStruct(e, "calc", &Calc{}) // Calc.Add → "calc.add", like jsonrpclib's register_instance
	mux.Handle("GET /metrics", m.Handler())   // or, on fastserver: srv.Handle("/metrics", m.FastHTTPHandler())
}
