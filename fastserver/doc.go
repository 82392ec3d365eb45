// Package fastserver serves an engine.Engine over HTTP with fasthttp: one
// path on one address, POST only, application/json answers, 204 when a
// request holds only notifications.
//
//	e := engine.New()
//	_ = engine.Register(e, "add", add)
//	srv := fastserver.New(e, fastserver.Config{Addr: "127.0.0.1:8080", Path: "/json-rpc"})
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
//	defer stop()
//	err := srv.Run(ctx, 10*time.Second) // returns once every accepted call was answered
//
// # Refusals
//
// JSON-RPC errors travel with HTTP 200. HTTP errors are 404 for another
// path, 405 (with Allow: POST) for another method, 415 for another content
// type, 413 for a body over MaxBodySize, 431 for headers and 414 for a
// request line over MaxHeaderBytes, 400 for a header block ended by a bare
// LF, 408 for a request not read within ReadTimeout, and 503 (with
// Retry-After) past MaxInFlight, MaxBufferedBytes or MaxConns; 429 past
// MaxConnsPerIP. Every refusal carries the CORS header when CORSOrigin is
// set. A request with Expect: 100-continue that would be refused is
// refused before 100 Continue. A connection the server closes after a
// refusal half-closes and drains what the client still sends, within
// LingerTimeout and LingerBytes, so that the client reads the refusal
// instead of a reset.
//
// # Memory
//
// The request body is handed to the engine in place (fasthttp's buffer),
// and the answer is built in a pooled buffer that fasthttp writes from
// directly: a request allocates nothing in steady state. Bodies and
// answers over 16 KiB count against MaxBufferedBytes from the moment their
// headers arrive (for bodies) until they are written (for answers), so
// that clients that never read their answers cost a bounded amount.
//
// # Calls and their context
//
// The context a handler gets carries engine.Metadata and is done when the
// call must end: its client closed the connection (seen within 0.4 s on
// Linux), its request outlived WriteTimeout, or Shutdown's grace period
// ended. A call that would start after that is not run. Like the params,
// the context is valid only until the handler returns: a goroutine that
// outlives the call must not use it.
//
// # Shutdown
//
// Shutdown closes the listeners and the connections that never sent a
// byte, answers the calls in flight with Connection: close, cancels the
// ones still running when its grace period ends, and returns once their
// answers are written.
package fastserver
