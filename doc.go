// Package jetrpc is the root of jetrpc, a JSON-RPC 2.0 engine for Go whose
// hot path allocates nothing. It holds no code: the packages below do the
// work, each with one job.
//
//   - engine: the method table and dispatch (Register, RegisterNoParams,
//     RegisterStruct, introspection, limits).
//   - fastserver: an engine served over HTTP by fasthttp (Run until drained).
//   - nethttp: the same as an http.Handler, for net/http services.
//   - client: the Go client (Dial, Call, CallFor, Go, Notify, batches).
//   - middleware: logging, authorization and metrics around methods.
//   - codec: the wire format, for those who build transports.
//
// The examples of this package are the README's code, run by go test.
package jetrpc
