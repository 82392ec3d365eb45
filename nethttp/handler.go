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
// carries engine.Metadata; when the http.Server has a WriteTimeout, it
// also has a deadline 100 ms before it, as go-ethereum derives one, so that
// the calls of a batch not started by then answer engine.ErrCallTimeout
// and the answer can still be written.
package nethttp

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/httpsem"
	"github.com/jetrpc/jetrpc/stream"
	"github.com/valyala/bytebufferpool"
)

// Defaults for a zero Config, the same as fastserver's.
const (
	// DefaultMaxBodySize bounds a request body.
	DefaultMaxBodySize = httpsem.MaxBodySize
	// DefaultLingerTimeout bounds how long a refused body is drained.
	DefaultLingerTimeout = httpsem.LingerTimeout
	// DefaultLingerBytes bounds how much of it is drained.
	DefaultLingerBytes = httpsem.LingerBytes
)

// writeMargin is how long before the server's WriteTimeout a request's
// deadline falls, leaving time to write its answer (go-ethereum's margin).
const writeMargin = 100 * time.Millisecond

// Config configures a Handler. The zero value uses the defaults.
type Config struct {
	// MaxBodySize is the largest request body accepted, in bytes;
	// DefaultMaxBodySize when 0. Larger bodies get 413.
	MaxBodySize int
	// LingerTimeout bounds how long the handler, having answered 413,
	// keeps reading and discarding the body its client is still sending,
	// so that the client reads the 413 instead of a reset (net/http would
	// close the connection under it); DefaultLingerTimeout when 0, no
	// draining when negative.
	LingerTimeout time.Duration
	// LingerBytes bounds what is drained so; DefaultLingerBytes when 0.
	// Past it net/http closes the connection.
	LingerBytes int
	// CORSOrigin, when set ("*" or an origin), answers browser preflight
	// requests and allows that origin to read every answer, refusals
	// included. Off by default.
	CORSOrigin string
	// Observer, when set, is told of every request the Handler answers,
	// for metrics (metrics.Metrics is one; count connections with its
	// ConnState on the http.Server).
	Observer Observer
	// NoWebSocket turns WebSocket off. By default a GET with Upgrade:
	// websocket becomes a persistent connection served by a stream.Server
	// (see Streams), as with fastserver. net/http does not track hijacked
	// connections: shut them down with Streams().Shutdown beside the
	// http.Server's (jetrpc serve does it after Run returns).
	NoWebSocket bool
	// WebSocketOrigins lists the Origin headers allowed to open a
	// WebSocket ("*" allows any); when empty, only requests without an
	// Origin or from the server's own host.
	WebSocketOrigins []string
	// Stream configures the WebSocket connections; MaxMessageSize is
	// MaxBodySize by default.
	Stream stream.Config
}

// Observer is told of every request a Handler answers: the status, the
// request body's length (as declared, for a refused body) and the answer
// body's. It runs on the request path, concurrently.
type Observer interface {
	ObserveHTTP(status, requestBytes, answerBytes int)
}

// Handler is an http.Handler serving an engine. It is safe for concurrent
// use.
type Handler struct {
	engine   *engine.Engine
	cfg      Config
	contexts sync.Pool // *callContext
	draining atomic.Bool
	streams  *stream.Server
	upgrader websocket.Upgrader
}

// New returns a Handler serving e.
func New(e *engine.Engine, cfg Config) *Handler {
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = DefaultMaxBodySize
	}
	if cfg.LingerTimeout == 0 {
		cfg.LingerTimeout = DefaultLingerTimeout
	}
	if cfg.LingerBytes <= 0 {
		cfg.LingerBytes = DefaultLingerBytes
	}
	h := &Handler{engine: e, cfg: cfg}
	h.contexts.New = func() any { return new(callContext) }
	sc := cfg.Stream
	if sc.MaxMessageSize == 0 {
		sc.MaxMessageSize = cfg.MaxBodySize
	}
	h.streams = stream.New(e, sc)
	h.upgrader.CheckOrigin = func(r *http.Request) bool {
		return httpsem.WebSocketOriginAllowed(r.Header.Get("Origin"), r.Host, cfg.WebSocketOrigins)
	}
	return h
}

// Streams returns the stream.Server of the WebSocket connections.
func (h *Handler) Streams() *stream.Server { return h.streams }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.draining.Load() {
		w.Header().Set("Connection", "close") // net/http ends a keep-alive connection with this answer
	}
	if !h.cfg.NoWebSocket && r.Method == http.MethodGet && websocket.IsWebSocketUpgrade(r) {
		if h.draining.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		ws, err := h.upgrader.Upgrade(w, r, nil) // a bad handshake is answered by the upgrader
		if err == nil {
			_ = h.streams.ServeWebSocket(ws.NetConn())
		}
		return
	}
	status, in, out := h.serve(w, r)
	if h.cfg.Observer != nil {
		h.cfg.Observer.ObserveHTTP(status, in, out)
	}
}

// serve answers one request and returns its status and the lengths of
// its body and its answer's.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (status, in, out int) {
	declared := int(max(r.ContentLength, 0))
	if h.cfg.CORSOrigin != "" {
		w.Header().Set("Access-Control-Allow-Origin", h.cfg.CORSOrigin)
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", httpsem.CORSMethods)
			w.Header().Set("Access-Control-Allow-Headers", httpsem.CORSHeaders)
			w.Header().Set("Access-Control-Max-Age", httpsem.CORSMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return http.StatusNoContent, 0, 0
		}
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", httpsem.AllowedMethods)
		return http.StatusMethodNotAllowed, declared, refuse(w, http.StatusMethodNotAllowed)
	}
	if !httpsem.AcceptedContentType([]byte(r.Header.Get("Content-Type"))) {
		return http.StatusUnsupportedMediaType, declared, refuse(w, http.StatusUnsupportedMediaType)
	}
	if r.ContentLength > int64(h.cfg.MaxBodySize) {
		return http.StatusRequestEntityTooLarge, declared, h.refuseBody(w, r)
	}
	body := bytebufferpool.Get()
	defer bytebufferpool.Put(body)
	if _, err := body.ReadFrom(io.LimitReader(r.Body, int64(h.cfg.MaxBodySize)+1)); err != nil {
		return http.StatusBadRequest, len(body.B), refuse(w, http.StatusBadRequest)
	}
	if len(body.B) > h.cfg.MaxBodySize { // chunked bodies declare no length
		return http.StatusRequestEntityTooLarge, len(body.B), h.refuseBody(w, r)
	}
	ctx := r.Context()
	if srv, ok := ctx.Value(http.ServerContextKey).(*http.Server); ok && srv.WriteTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, max(srv.WriteTimeout-writeMargin, srv.WriteTimeout/2))
		defer cancel()
	}
	cc := h.contexts.Get().(*callContext)
	cc.Context, cc.r = ctx, r
	answer := bytebufferpool.Get()
	defer bytebufferpool.Put(answer)
	h.engine.Handle(cc, body.B, answer)
	cc.Context, cc.r = nil, nil
	h.contexts.Put(cc)
	if len(answer.B) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent, len(body.B), 0
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(answer.B)))
	w.Write(answer.B)
	return http.StatusOK, len(body.B), len(answer.B)
}

// refuse answers status with its one-line text, and returns the text's
// length; headers set before (CORS, Allow) stay. Unlike http.Error it
// declares the length, so that a client reads the whole refusal at once
// even while the handler goes on draining the request body (see
// refuseBody).
func refuse(w http.ResponseWriter, status int) int {
	text := httpsem.RefusalText(status) + "\n"
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(status)
	io.WriteString(w, text)
	return len(text)
}

// refuseBody answers 413 to a body over the limit, then reads and
// discards what the client still sends of it, within LingerTimeout and
// LingerBytes: left unread, net/http would close the connection under a
// client still sending (after half a second), which then sees a reset
// instead of the 413. With the body drained the connection even stays
// open. A client that sent Expect: 100-continue gets the 413 without a
// 100 Continue and sends no body, so there is nothing to drain.
// It returns the refusal's length.
func (h *Handler) refuseBody(w http.ResponseWriter, r *http.Request) int {
	rc := http.NewResponseController(w)
	drain := h.cfg.LingerTimeout > 0 && r.Header.Get("Expect") == "" && rc.EnableFullDuplex() == nil
	n := refuse(w, http.StatusRequestEntityTooLarge)
	if drain {
		rc.Flush()
		rc.SetReadDeadline(time.Now().Add(h.cfg.LingerTimeout))
		io.CopyN(io.Discard, r.Body, int64(h.cfg.LingerBytes))
	}
	return n
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

// Healthz answers 200 "ok": the process serves (a liveness probe). Mount
// it on a mux: mux.Handle("/healthz", nethttp.Healthz).
var Healthz http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
})

// Readyz answers 200 "ready" until Drain, then 503 "draining" (a readiness
// probe). Mount it on a mux: mux.Handle("/readyz", h.Readyz()).
func (h *Handler) Readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !h.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "draining\n")
			return
		}
		io.WriteString(w, "ready\n")
	})
}

// Ready reports whether the handler takes new work: false after Drain.
func (h *Handler) Ready() bool { return !h.draining.Load() }

// Drain begins a drain that a load balancer can follow: Readyz answers
// 503 and every answer carries Connection: close, while calls are still
// answered. Stop the server (Run's context, or http.Server.Shutdown) some
// health-check intervals later. Drain cannot be undone.
func (h *Handler) Drain() { h.draining.Store(true) }
