// Package peers serves the same four JSON-RPC cases with jetrpc, the bare
// fasthttp handler and other Go JSON-RPC libraries, so that all of them
// are measured by one harness: in process (peers_test.go) and over
// loopback (cmd/peerserve with `jetrpc bench`, run.sh, `make peers`).
//
// It is its own module, so that the main go.mod never depends on a peer.
//
// Every server runs the same methods: ping returns "pong"; add returns
// a+b of {"a": a, "b": b} (by name); echo returns its one positional
// argument as is. Each library is used the way its documentation shows,
// with its own method naming; where a library cannot serve a case (no
// batches, no named params) its Body says so and the case is left out,
// and a test shows the library indeed cannot.
package peers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/creachadair/jrpc2/handler"
	"github.com/creachadair/jrpc2/jhttp"
	geth "github.com/ethereum/go-ethereum/rpc"
	gorilla "github.com/gorilla/rpc/v2"
	"github.com/gorilla/rpc/v2/json2"
	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/jetrpc/jetrpc/nethttp"
	"github.com/sourcegraph/jsonrpc2"
)

// A Case is one of the compared requests.
type Case string

// The cases, in the order of the tables.
const (
	Ping  Case = "ping"          // no params
	Add   Case = "add"           // {"a":1,"b":2} by name
	Echo  Case = "echo_1KiB"     // a 1 KiB string by position
	Batch Case = "batch_10_adds" // ten adds, ids 1…10
)

// Cases lists the cases in table order.
var Cases = []Case{Ping, Add, Echo, Batch}

// Message1KiB is echo's argument.
var Message1KiB = strings.Repeat("x", 1024)

// A Server is one library serving the cases.
type Server struct {
	// Name is how tables and benchmarks call it.
	Name string
	// Stream is true for a server that reads a stream of JSON values
	// (no HTTP): it can be measured in process only.
	Stream bool
	// Note says how it differs from the others, when it does.
	Note string

	dialect dialect
	// start serves on ln until stop is called; c is the case about to be
	// measured (only the bare handler needs it: it answers that case's answer).
	start func(ln net.Listener, c Case) (stop func(), err error)
}

// dialect is how a library names its methods and takes add's params.
type dialect struct {
	ping, add, echo string
	addParams       string // add's params, by name unless the library has none
	noBatch         bool
}

// addByName is add's params in every dialect that has named params.
const addByName = `{"a":1,"b":2}`

var standard = dialect{ping: "ping", add: "add", echo: "echo", addParams: addByName}

// withoutBatches is d for a library that cannot serve a batch.
func (d dialect) withoutBatches() dialect {
	d.noBatch = true
	return d
}

// Servers lists the servers in table order: the ceiling first, then
// jetrpc, then the peers.
var Servers = []Server{
	{Name: "bare fasthttp", Note: "writes the case's answer without reading the request: the ceiling",
		dialect: standard, start: startBare},
	{Name: "jetrpc", dialect: standard, start: startJetrpc},
	{Name: "jetrpc (net/http)", Note: "jetrpc's nethttp adapter on net/http, like the peers below",
		dialect: standard, start: startJetrpcNetHTTP},
	{Name: "creachadair/jrpc2", Note: "jhttp.Bridge on net/http", dialect: standard, start: startJRPC2},
	{Name: "go-ethereum/rpc", Note: "no named params: add takes one object argument, [{\"a\":1,\"b\":2}]",
		dialect: dialect{ping: "bench_ping", add: "bench_add", echo: "bench_echo", addParams: `[{"a":1,"b":2}]`},
		start:   startGeth},
	{Name: "gorilla/rpc json2", Note: "no batches; echo decodes and re-encodes the string",
		dialect: dialect{ping: "bench.Ping", add: "bench.Add", echo: "bench.Echo", addParams: addByName, noBatch: true},
		start:   startGorilla},
	{Name: "sourcegraph/jsonrpc2", Stream: true, Note: "no HTTP (a stream of JSON values on the connection), no batches",
		dialect: standard.withoutBatches(),
		start:   startSourcegraph},
}

// Lookup returns the server called name.
func Lookup(name string) (Server, bool) {
	for _, s := range Servers {
		if s.Name == name {
			return s, true
		}
	}
	return Server{}, false
}

// Body returns the request of case c in s's dialect, or nil when s cannot
// serve c. Ids are numbers: 1, or 1…10 in the batch.
func (s Server) Body(c Case) []byte {
	d := s.dialect
	call := func(b []byte, method, params string, id int) []byte {
		b = append(b, `{"jsonrpc":"2.0","method":"`...)
		b = append(b, method...)
		b = append(b, '"')
		if params != "" {
			b = append(append(b, `,"params":`...), params...)
		}
		return fmt.Appendf(b, `,"id":%d}`, id)
	}
	switch c {
	case Ping:
		return call(nil, d.ping, "", 1)
	case Add:
		return call(nil, d.add, d.addParams, 1)
	case Echo:
		return call(nil, d.echo, `["`+Message1KiB+`"]`, 1)
	case Batch:
		if d.noBatch {
			return nil
		}
		b := []byte{'['}
		for id := 1; id <= 10; id++ {
			if id > 1 {
				b = append(b, ',')
			}
			b = call(b, d.add, d.addParams, id)
		}
		return append(b, ']')
	}
	return nil
}

// Start serves s on ln until stop is called. c is the case about to be
// measured (the bare handler answers that case's answer to every request).
func (s Server) Start(ln net.Listener, c Case) (stop func(), err error) { return s.start(ln, c) }

// Expected returns the result of case c, as encoding/json decodes it into
// an any (for the batch: each item's).
func Expected(c Case) any {
	switch c {
	case Ping:
		return "pong"
	case Echo:
		return Message1KiB
	}
	return 3.0
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func demoEngine() (*engine.Engine, error) {
	e := engine.New(engine.WithLogger(quiet))
	return e, demo.Register(e)
}

func startJetrpc(ln net.Listener, _ Case) (func(), error) {
	e, err := demoEngine()
	if err != nil {
		return nil, err
	}
	srv := fastserver.New(e, fastserver.Config{Logger: quiet})
	go srv.Serve(ln)
	return func() { shutdown(srv.Shutdown) }, nil
}

func startBare(ln net.Listener, c Case) (func(), error) {
	e, err := demoEngine()
	if err != nil {
		return nil, err
	}
	// The answer is jetrpc's own answer to the case's request.
	body := Server{dialect: standard}.Body(c)
	answer := e.Append(context.Background(), nil, body)
	if len(answer) == 0 {
		return nil, fmt.Errorf("peers: no answer to %s", body)
	}
	srv := fastserver.NewFastHTTPServer(bench.FixedHandler(answer), fastserver.Config{Logger: quiet})
	go srv.Serve(ln)
	return func() { srv.Shutdown() }, nil
}

func startJetrpcNetHTTP(ln net.Listener, _ Case) (func(), error) {
	e, err := demoEngine()
	if err != nil {
		return nil, err
	}
	return serveHTTP(ln, nethttp.New(e, nethttp.Config{})), nil
}

// AddParams is add's params in every library.
type AddParams struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

func startJRPC2(ln net.Listener, _ Case) (func(), error) {
	bridge := jhttp.NewBridge(handler.Map{
		"ping": handler.New(func(context.Context) (string, error) { return "pong", nil }),
		"add":  handler.New(func(_ context.Context, p AddParams) (float64, error) { return p.A + p.B, nil }),
		"echo": handler.NewPos(func(_ context.Context, m json.RawMessage) (json.RawMessage, error) { return m, nil }, "message"),
	}, nil)
	stop := serveHTTP(ln, bridge)
	return func() { stop(); bridge.Close() }, nil
}

// gethService is go-ethereum's receiver: its methods are bench_ping etc.
type gethService struct{}

func (gethService) Ping() string                           { return "pong" }
func (gethService) Add(p AddParams) float64                { return p.A + p.B }
func (gethService) Echo(m json.RawMessage) json.RawMessage { return m }

func startGeth(ln net.Listener, _ Case) (func(), error) {
	srv := geth.NewServer()
	if err := srv.RegisterName("bench", gethService{}); err != nil {
		return nil, err
	}
	stop := serveHTTP(ln, srv)
	return func() { stop(); srv.Stop() }, nil
}

// GorillaService is gorilla/rpc's receiver: its methods are bench.Ping etc.
// (gorilla wants the receiver's type exported).
type GorillaService struct{}

// Ping returns "pong".
func (GorillaService) Ping(_ *http.Request, _ *struct{}, reply *string) error {
	*reply = "pong"
	return nil
}

// Add returns a+b.
func (GorillaService) Add(_ *http.Request, p *AddParams, reply *float64) error {
	*reply = p.A + p.B
	return nil
}

// Echo returns its argument. It is a string, not a json.RawMessage: a raw
// message would take the whole params array, and gorilla reads a lone
// positional argument only when decoding params into args fails.
func (GorillaService) Echo(_ *http.Request, m *string, reply *string) error {
	*reply = *m
	return nil
}

func startGorilla(ln net.Listener, _ Case) (func(), error) {
	srv := gorilla.NewServer()
	srv.RegisterCodec(json2.NewCodec(), "application/json")
	if err := srv.RegisterService(GorillaService{}, "bench"); err != nil {
		return nil, err
	}
	return serveHTTP(ln, srv), nil
}

func startSourcegraph(ln net.Listener, _ Case) (func(), error) {
	h := jsonrpc2.HandlerWithError(func(_ context.Context, _ *jsonrpc2.Conn, r *jsonrpc2.Request) (any, error) {
		switch r.Method {
		case "ping":
			return "pong", nil
		case "add":
			var p AddParams
			if r.Params == nil || json.Unmarshal(*r.Params, &p) != nil {
				return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: "want {a, b}"}
			}
			return p.A + p.B, nil
		case "echo":
			var p [1]json.RawMessage
			if r.Params == nil || json.Unmarshal(*r.Params, &p) != nil {
				return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: "want [message]"}
			}
			return p[0], nil
		}
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "method not found"}
	})
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			jsonrpc2.NewConn(context.Background(), jsonrpc2.NewPlainObjectStream(conn), h, jsonrpc2.SetLogger(log.New(io.Discard, "", 0)))
		}
	}()
	return func() { ln.Close() }, nil
}

// serveHTTP serves h with net/http's defaults.
func serveHTTP(ln net.Listener, h http.Handler) func() {
	srv := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 30 * time.Second}
	go srv.Serve(ln)
	return func() { shutdown(srv.Shutdown) }
}

func shutdown(f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f(ctx)
}

// CheckAnswer reports whether answer is the right answer to case c:
// the expected result with the request's id, for each call of a batch.
func CheckAnswer(c Case, answer []byte) error {
	type item struct {
		Result any             `json:"result"`
		Error  json.RawMessage `json:"error"`
		ID     json.RawMessage `json:"id"`
	}
	var items []item
	if c == Batch {
		if err := json.Unmarshal(answer, &items); err != nil {
			return fmt.Errorf("%s: not a batch answer: %.200q", c, answer)
		}
	} else {
		items = make([]item, 1)
		if err := json.Unmarshal(answer, &items[0]); err != nil {
			return fmt.Errorf("%s: not an answer: %.200q", c, answer)
		}
	}
	want := 1
	if c == Batch {
		want = 10
	}
	if len(items) != want {
		return fmt.Errorf("%s: %d answers, want %d", c, len(items), want)
	}
	seen := map[string]bool{}
	for _, it := range items {
		id := string(bytes.TrimSpace(it.ID))
		if it.Error != nil && string(it.Error) != "null" {
			return fmt.Errorf("%s: error %s", c, it.Error)
		}
		if it.Result != Expected(c) {
			return fmt.Errorf("%s: result %.100v, want %.100v", c, it.Result, Expected(c))
		}
		if seen[id] || (c != Batch && id != "1") {
			return fmt.Errorf("%s: id %s", c, id)
		}
		seen[id] = true
	}
	return nil
}
