// Package client calls JSON-RPC 2.0 servers: synchronously (Call,
// CallRaw), asynchronously (Go, with a Done channel), as notifications
// (Notify) and in batches (NewBatch), over a pluggable Transport.
//
//	c, err := client.Dial("http://127.0.0.1:8080/json-rpc", client.WithTimeout(5*time.Second))
//	sum, err := client.CallFor[float64](ctx, c, "add", []int{1, 2})
//	var rpcErr *codec.Error
//	if errors.As(err, &rpcErr) { … the server answered with an error … }
//
// Dial picks the transport from the URL; options set headers, timeouts,
// TLS, a unix socket, and a trace of every request and answer (WithTrace).
// ws://, wss://, tcp:// and unix:// URLs (and NewStream, for a child
// process's stdio) open one persistent connection shared by every
// goroutine: calls are written as they come (coalesced into one write when
// they come together) and answers matched by id in any order; Subscribe
// receives go-ethereum-style subscriptions, typed; WithReconnect redials a
// lost connection with backoff and jitter (calls in flight fail with
// ErrConnectionLost, never silently retried).
// A Transport is one method, RoundTrip(ctx, dst, request) (answer, error),
// so a new way to reach a server takes a few lines; TransportFunc adapts a
// function. FastHTTP (pooled keep-alive connections, TLS, unix sockets)
// and HTTP (net/http, for proxies and RoundTripper middleware) ship here.
//
// # Cost
//
// CallRaw, or Call with *json.RawMessage params and result, over FastHTTP
// with a context that cannot be cancelled, or over a persistent
// connection with any context, allocates nothing in steady state. Typed params and results cost what go-json needs; a cancellable
// context costs a goroutine per call over FastHTTP.
//
// A Client is safe for concurrent use; ids come from one atomic counter.
package client
