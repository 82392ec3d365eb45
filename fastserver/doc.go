// Package fastserver serves an engine.Engine over HTTP with fasthttp: one
// path on one address, POST only, application/json answers, 204 when a
// request holds only notifications.
//
//	e := engine.New()
//	_ = engine.Register(e, "add", add)
//	srv := fastserver.New(e, fastserver.Config{Addr: "127.0.0.1:8080", Path: "/json-rpc"})
//	go srv.ListenAndServe()
//	defer srv.Shutdown(context.Background())
//
// JSON-RPC errors travel with HTTP 200. HTTP errors are 404 for another
// path, 405 (with Allow: POST) for another method and 413 for a body over
// Config.MaxBodySize.
//
// The request body is handed to the engine in place (fasthttp's buffer) and
// the answer is built in a pooled buffer: a request allocates nothing in
// steady state. Handlers must not keep params after they return.
//
// The context a handler gets is the request's *fasthttp.RequestCtx: it is
// done when the server shuts down, and, like the params, it is valid only
// until the handler returns (fasthttp reuses it): a goroutine that outlives
// the call must not use it.
package fastserver
