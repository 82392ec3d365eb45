package fastserver

import (
	"github.com/valyala/fasthttp"
)

// Handle serves h on path, beside the JSON-RPC path on the same listener:
// health probes and metrics, say. It must be called before serving. Such
// requests are not JSON-RPC: no limit but the body size applies, and the
// Observer is not told of them.
//
//	srv.Handle("/healthz", fastserver.Healthz)
//	srv.Handle("/readyz", srv.Readyz)
//	srv.Handle("/metrics", m.FastHTTPHandler())
func (s *Server) Handle(path string, h fasthttp.RequestHandler) {
	if s.handlers == nil {
		s.handlers = map[string]fasthttp.RequestHandler{}
	}
	s.handlers[path] = h
}

// Healthz answers 200 "ok": the process serves (a liveness probe).
func Healthz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString("ok\n")
}

// Readyz answers 200 "ready" while the server takes new work, and 503
// "draining" once Drain or Shutdown has begun (a readiness probe: a load
// balancer stops sending new requests).
func (s *Server) Readyz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	if !s.Ready() {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString("draining\n")
		return
	}
	ctx.SetBodyString("ready\n")
}

// Ready reports whether the server takes new work: false once Drain or
// Shutdown has begun.
func (s *Server) Ready() bool { return !s.draining.Load() }

// Drain begins a drain that a load balancer can follow: Readyz answers
// 503, every answer carries Connection: close, so that keep-alive clients
// move to other backends at their next request, while the server goes on
// accepting connections and answering calls. Shutdown, some health-check
// intervals later, then stops it. Drain cannot be undone.
func (s *Server) Drain() { s.draining.Store(true) }
