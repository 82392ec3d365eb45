// Package nethttp serves an engine.Engine as a net/http http.Handler, for
// services that already run net/http, chi, echo and the like. It has the
// semantics of fastserver: POST only (405 with Allow: POST), JSON content
// types only (415), 413 over the body limit, application/json answers,
// 204 when nothing is owed, JSON-RPC errors with HTTP 200, optional CORS.
//
//	mux := http.NewServeMux()
//	mux.Handle("/json-rpc", nethttp.New(e, nethttp.Config{}))
//
// It costs what net/http costs per request (it allocates), plus the engine,
// which does not; see the README for the ratio to fastserver. The call's
// context is the request's (cancelled when the client goes away) and
// carries engine.Metadata.
package nethttp

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/httpsem"
	"github.com/valyala/bytebufferpool"
)

// DefaultMaxBodySize bounds a request body, as fastserver's does.
const DefaultMaxBodySize = 4 << 20

// Config configures a Handler. The zero value uses the defaults.
type Config struct {
	// MaxBodySize is the largest request body accepted, in bytes;
	// DefaultMaxBodySize when 0. Larger bodies get 413.
	MaxBodySize int
	// CORSOrigin, when set ("*" or an origin), answers browser preflight
	// requests and allows that origin to read answers. Off by default.
	CORSOrigin string
}

// Handler is an http.Handler serving an engine. It is safe for concurrent
// use.
type Handler struct {
	engine   *engine.Engine
	cfg      Config
	contexts sync.Pool // *callContext
}

// New returns a Handler serving e.
func New(e *engine.Engine, cfg Config) *Handler {
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = DefaultMaxBodySize
	}
	h := &Handler{engine: e, cfg: cfg}
	h.contexts.New = func() any { return new(callContext) }
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cfg.CORSOrigin != "" {
		w.Header().Set("Access-Control-Allow-Origin", h.cfg.CORSOrigin)
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", httpsem.CORSMethods)
			w.Header().Set("Access-Control-Allow-Headers", httpsem.CORSHeaders)
			w.Header().Set("Access-Control-Max-Age", httpsem.CORSMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", httpsem.AllowedMethods)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !httpsem.AcceptedContentType([]byte(r.Header.Get("Content-Type"))) {
		http.Error(w, "content type must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	if r.ContentLength > int64(h.cfg.MaxBodySize) {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	body := bytebufferpool.Get()
	defer bytebufferpool.Put(body)
	if _, err := body.ReadFrom(io.LimitReader(r.Body, int64(h.cfg.MaxBodySize)+1)); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if len(body.B) > h.cfg.MaxBodySize { // chunked bodies declare no length
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	cc := h.contexts.Get().(*callContext)
	cc.Context, cc.r = r.Context(), r
	out := bytebufferpool.Get()
	defer bytebufferpool.Put(out)
	h.engine.Handle(cc, body.B, out)
	cc.Context, cc.r = nil, nil
	h.contexts.Put(cc)
	if len(out.B) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out.B)))
	w.Write(out.B)
}

// callContext is the request's context, carrying its engine.Metadata.
type callContext struct {
	context.Context
	r *http.Request
}

func (c *callContext) Value(key any) any {
	if _, ok := key.(engine.MetadataKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// RemoteAddr implements engine.Metadata.
func (c *callContext) RemoteAddr() net.Addr { return remoteAddr(c.r.RemoteAddr) }

// Header implements engine.Metadata. It allocates the copy of the value.
func (c *callContext) Header(name string) []byte {
	if v := c.r.Header.Get(name); v != "" {
		return []byte(v)
	}
	return nil
}

// remoteAddr is net/http's "host:port" string as a net.Addr.
type remoteAddr string

func (a remoteAddr) Network() string { return "tcp" }
func (a remoteAddr) String() string  { return string(a) }
