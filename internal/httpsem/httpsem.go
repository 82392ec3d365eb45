// Package httpsem holds the HTTP semantics both transports (fastserver and
// nethttp) share, so that they cannot drift apart.
package httpsem

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Limits both transports default to (each package exports them under its
// own name).
const (
	// MaxBodySize bounds a request body (413 above it): a batch of several
	// thousand calls, yet small enough that a few hundred concurrent
	// maximal bodies fit in memory.
	MaxBodySize = 4 << 20
	// LingerTimeout bounds how long a server that refuses a request keeps
	// reading and discarding what its client still sends, so that the
	// client reads the refusal instead of a reset.
	LingerTimeout = 5 * time.Second
	// LingerBytes bounds what it reads so: twice the largest body a
	// confused client is likely to push (64 MiB), about 0.1 s of CPU over
	// loopback.
	LingerBytes = 128 << 20
)

// WebSocketOriginAllowed reports whether a WebSocket upgrade with the
// Origin header origin may go ahead on a server reached as host: no Origin
// (a program, not a browser page), an origin listed in allowed ("*" for
// any), or the server's own host; so that a page elsewhere cannot reach the
// API with its user's cookies.
func WebSocketOriginAllowed(origin, host string, allowed []string) bool {
	if origin == "" || slices.Contains(allowed, "*") || slices.Contains(allowed, origin) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, host)
}

// AcceptedContentType reports whether a request's Content-Type may carry
// JSON-RPC: application/json, application/json-rpc (jsonrpclib-pelix) or
// application/jsonrequest, with any parameters (charset=…), in any case.
// A request without a Content-Type is accepted too: several clients send
// none. It allocates nothing.
func AcceptedContentType(ct []byte) bool {
	if string(ct) == "application/json" { // what nearly every client sends: no parsing
		return true
	}
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	return len(ct) == 0 ||
		bytes.EqualFold(ct, []byte("application/json")) ||
		bytes.EqualFold(ct, []byte("application/json-rpc")) ||
		bytes.EqualFold(ct, []byte("application/jsonrequest"))
}

// refusals is the body of each refusal: one line saying what is wrong.
var refusals = map[int]string{
	http.StatusBadRequest:                  "bad request",
	http.StatusNotFound:                    "not found",
	http.StatusMethodNotAllowed:            "method not allowed",
	http.StatusRequestTimeout:              "request timeout",
	http.StatusRequestEntityTooLarge:       "request body too large",
	http.StatusRequestURITooLong:           "request line too long",
	http.StatusUnsupportedMediaType:        "content type must be application/json",
	http.StatusRequestHeaderFieldsTooLarge: "request header fields too large",
	http.StatusServiceUnavailable:          "server busy: too many calls in flight or bytes buffered; retry later",
}

// RefusalText is the body of a refusal with status.
func RefusalText(status int) string {
	if t, ok := refusals[status]; ok {
		return t
	}
	return http.StatusText(status)
}

// Values of the headers the transports send.
const (
	AllowedMethods = "POST"
	CORSMethods    = "POST, OPTIONS"
	CORSHeaders    = "Content-Type, Authorization"
	CORSMaxAge     = "600"
)
