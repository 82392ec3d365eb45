package peers

import (
	"context"
	"encoding/json"
	"net"

	"github.com/creachadair/jrpc2"
	"github.com/creachadair/jrpc2/channel"
	"github.com/creachadair/jrpc2/handler"
	geth "github.com/ethereum/go-ethereum/rpc"
	"github.com/jetrpc/jetrpc/stream"
)

// A PersistentServer serves the cases on a persistent transport: a
// WebSocket ("ws", at Path) or a newline-delimited TCP stream ("tcp").
type PersistentServer struct {
	Name      string
	Transport string
	Path      string
	Note      string

	dialect dialect
	start   func(ln net.Listener) (stop func(), err error)
}

// PersistentServers lists them in table order: jetrpc first, then each
// peer on the persistent transport it documents.
var PersistentServers = []PersistentServer{
	{Name: "jetrpc", Transport: "tcp", dialect: standard, start: startJetrpcStream},
	{Name: "jetrpc", Transport: "ws", Path: "/json-rpc", dialect: standard, // the HTTP server upgrades
		start: func(ln net.Listener) (func(), error) { return startJetrpc(ln, Ping) }},
	{Name: "go-ethereum/rpc", Transport: "ws", Path: "/", Note: "Server.WebsocketHandler on net/http",
		dialect: dialect{ping: "bench_ping", add: "bench_add", echo: "bench_echo", addParams: `[{"a":1,"b":2}]`}, start: startGethWebSocket},
	{Name: "creachadair/jrpc2", Transport: "tcp", Note: "a jrpc2.Server per connection over channel.Line", dialect: standard, start: startJRPC2Line},
	{Name: "sourcegraph/jsonrpc2", Transport: "tcp", Note: "PlainObjectStream (newline-terminated JSON values); no batches",
		dialect: standard.withoutBatches(), start: func(ln net.Listener) (func(), error) { return startSourcegraph(ln, Ping) }},
}

// LookupPersistent returns the persistent server called name on transport.
func LookupPersistent(name, transport string) (PersistentServer, bool) {
	for _, s := range PersistentServers {
		if s.Name == name && s.Transport == transport {
			return s, true
		}
	}
	return PersistentServer{}, false
}

// Start serves s on ln until stop is called.
func (s PersistentServer) Start(ln net.Listener) (stop func(), err error) { return s.start(ln) }

// Call returns case c as `jetrpc bench` flags in s's dialect (-method,
// -params, -batch); ok is false when s cannot serve c.
func (s PersistentServer) Call(c Case) (method, params string, batch int, ok bool) {
	d := s.dialect
	switch c {
	case Ping:
		return d.ping, "", 1, true
	case Add:
		return d.add, d.addParams, 1, true
	case Echo:
		return d.echo, `["` + Message1KiB + `"]`, 1, true
	case Batch:
		return d.add, d.addParams, 10, !d.noBatch
	}
	return "", "", 0, false
}

// URL returns the URL `jetrpc bench` loads s at on addr.
func (s PersistentServer) URL(addr string) string {
	if s.Transport == "ws" {
		return "ws://" + addr + s.Path
	}
	return "tcp://" + addr
}

func startJetrpcStream(ln net.Listener) (func(), error) {
	e, err := demoEngine()
	if err != nil {
		return nil, err
	}
	srv := stream.New(e, stream.Config{Logger: quiet})
	go srv.Serve(ln)
	return func() { shutdown(srv.Shutdown) }, nil
}

func startGethWebSocket(ln net.Listener) (func(), error) {
	srv := geth.NewServer()
	if err := srv.RegisterName("bench", gethService{}); err != nil {
		return nil, err
	}
	stop := serveHTTP(ln, srv.WebsocketHandler([]string{"*"}))
	return func() { stop(); srv.Stop() }, nil
}

func startJRPC2Line(ln net.Listener) (func(), error) {
	methods := handler.Map{
		"ping": handler.New(func(context.Context) (string, error) { return "pong", nil }),
		"add":  handler.New(func(_ context.Context, p AddParams) (float64, error) { return p.A + p.B, nil }),
		"echo": handler.NewPos(func(_ context.Context, m json.RawMessage) (json.RawMessage, error) { return m, nil }, "message"),
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			jrpc2.NewServer(methods, &jrpc2.ServerOptions{Concurrency: 64}).Start(channel.Line(conn, conn))
		}
	}()
	return func() { ln.Close() }, nil
}
