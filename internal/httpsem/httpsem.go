// Package httpsem holds the HTTP semantics both transports (fastserver and
// nethttp) share, so that they cannot drift apart.
package httpsem

import "bytes"

// AcceptedContentType reports whether a request's Content-Type may carry
// JSON-RPC: application/json, application/json-rpc (jsonrpclib-pelix) or
// application/jsonrequest, with any parameters (charset=…), in any case.
// A request without a Content-Type is accepted too: several clients send
// none. It allocates nothing.
func AcceptedContentType(ct []byte) bool {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	return len(ct) == 0 ||
		bytes.EqualFold(ct, []byte("application/json")) ||
		bytes.EqualFold(ct, []byte("application/json-rpc")) ||
		bytes.EqualFold(ct, []byte("application/jsonrequest"))
}

// Values of the headers the transports send.
const (
	AllowedMethods = "POST"
	CORSMethods    = "POST, OPTIONS"
	CORSHeaders    = "Content-Type, Authorization"
	CORSMaxAge     = "600"
)
