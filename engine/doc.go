// Package engine is jetrpc's method table and dispatcher: it knows methods,
// nothing of HTTP. Every transport hands request bodies to Engine.Handle.
//
//	e := engine.New()
//	engine.Register(e, "add", func(ctx context.Context, p struct{ A, B int }) (int, error) {
//		return p.A + p.B, nil
//	})
//	engine.RegisterNoParams(e, "hello", func(context.Context) (string, error) { return "Hello", nil })
//	e.RegisterRaw("ping", func(c *engine.Call) error { return c.ResultString("pong") })
//	out = e.Append(ctx, out[:0], body)
//
// # Handlers
//
// A typed handler takes its params as a Go value P and returns a Go value
// R: func(ctx, P) (R, error) with Register, func(ctx) (R, error) with
// RegisterNoParams, func(ctx, P) error with RegisterNoResult (result
// null), func(ctx) error with RegisterNoParamsNoResult. P is a struct, a
// slice, an array, a map, a scalar or a pointer to one of these (see
// Register). The adaptation to the raw form is built once, at
// registration, with reflection, and a call uses none; one analysis of P
// feeds the decoder, the signature, the help and the OpenRPC schema.
// RegisterStruct registers the methods of a value (jsonrpclib's
// register_instance), through reflection on each call. A raw handler
// (RegisterRaw) reads the params bytes and sets its result bytes itself.
// A handler returns a *codec.Error, or an error wrapping one, to choose its
// answer; context.Canceled answers ErrCallCancelled (-32000) and
// context.DeadlineExceeded ErrCallTimeout (-32001); any other error
// answers -32603 Internal error, and so does a panic, which is recovered
// and logged. ErrorOf is that mapping. A float result JSON cannot hold
// (NaN, an overflow to ±Inf) answers -32602 with data saying so.
//
// The context given to Handle bounds the request: once it is done, the
// calls that have not started answer ErrCallCancelled or ErrCallTimeout
// without running.
//
// # Semantics
//
// Notifications (requests without an id) are run and never answered, even
// when they fail; "id": null is a call. Ids come back byte for byte. A batch
// is answered with an array in request order, without the notifications; a
// batch of notifications only, with nothing. An empty batch is answered with
// one -32600 object.
//
// # Ownership and cost
//
// Params, ids and method names are sub-slices of the request body: a
// handler must copy what it keeps after it returns (json.RawMessage
// params fields included). In steady state Handle allocates nothing for
// raw handlers and for typed handlers whose P and R hold booleans,
// numbers and raw JSON; strings and go-json-decoded types allocate what
// they need.
package engine
