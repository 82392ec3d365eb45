package fastserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/valyala/bytebufferpool"
	"github.com/valyala/fasthttp"
)

// Defaults for a zero Config.
const (
	DefaultAddr = "127.0.0.1:8080"
	DefaultPath = "/json-rpc"
	// DefaultMaxBodySize bounds a request body (answered 413 above it): a
	// batch of several thousand calls, yet small enough that a few hundred
	// concurrent maximal bodies fit in memory.
	DefaultMaxBodySize = 4 << 20
	// DefaultReadTimeout bounds reading a request, so that a client that
	// stops sending cannot hold a connection and its buffers forever.
	DefaultReadTimeout = 30 * time.Second
	// DefaultIdleTimeout bounds an idle keep-alive connection.
	DefaultIdleTimeout = 2 * time.Minute
)

// Config configures a Server. The zero value serves DefaultPath on
// DefaultAddr with the default limits.
type Config struct {
	// Addr is the TCP address to listen on; DefaultAddr when empty.
	Addr string
	// Path is the only path served (404 elsewhere); DefaultPath when empty.
	Path string
	// MaxBodySize is the largest request body accepted, in bytes;
	// DefaultMaxBodySize when 0.
	MaxBodySize int
	// ReadTimeout bounds reading one request; DefaultReadTimeout when 0.
	ReadTimeout time.Duration
	// IdleTimeout bounds waiting for the next request on a keep-alive
	// connection; DefaultIdleTimeout when 0.
	IdleTimeout time.Duration
	// Logger receives fasthttp's connection errors (client misbehaviour,
	// at Debug level); slog.Default() when nil.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.MaxBodySize <= 0 {
		c.MaxBodySize = DefaultMaxBodySize
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Server serves an engine.Engine over HTTP with fasthttp. It is safe for
// concurrent use.
type Server struct {
	engine *engine.Engine
	cfg    Config
	path   []byte
	srv    *fasthttp.Server
}

// New returns a Server for e. It does not listen until Serve or
// ListenAndServe.
func New(e *engine.Engine, cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{engine: e, cfg: cfg, path: []byte(cfg.Path)}
	s.srv = NewFastHTTPServer(s.HandleFastHTTP, cfg)
	return s
}

// NewFastHTTPServer returns the fasthttp.Server that Server uses, with cfg's
// limits, around any handler. Benchmarks use it to run a bare handler
// under the very same settings.
func NewFastHTTPServer(h fasthttp.RequestHandler, cfg Config) *fasthttp.Server {
	cfg = cfg.withDefaults()
	return &fasthttp.Server{
		Handler:              h,
		Name:                 "jetrpc",
		MaxRequestBodySize:   cfg.MaxBodySize,
		ReadTimeout:          cfg.ReadTimeout,
		IdleTimeout:          cfg.IdleTimeout,
		NoDefaultContentType: true,
		ErrorHandler:         handleRequestError,
		Logger:               debugLogger{cfg.Logger},
	}
}

// handleRequestError answers a request fasthttp could not read.
func handleRequestError(ctx *fasthttp.RequestCtx, err error) {
	var netErr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		ctx.Error("request body too large", fasthttp.StatusRequestEntityTooLarge)
	case errors.As(err, &netErr) && netErr.Timeout():
		ctx.Error("request timeout", fasthttp.StatusRequestTimeout)
	default:
		ctx.Error("bad request", fasthttp.StatusBadRequest)
	}
}

// debugLogger adapts slog to fasthttp.Logger at Debug level: what fasthttp
// logs is a client's fault, not the server's.
type debugLogger struct{ l *slog.Logger }

func (d debugLogger) Printf(format string, args ...any) {
	if d.l.Enabled(context.Background(), slog.LevelDebug) {
		d.l.Debug(fmt.Sprintf("fasthttp: "+format, args...))
	}
}

// Config returns the configuration in effect, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

var (
	strPost            = []byte(fasthttp.MethodPost)
	strApplicationJSON = []byte("application/json")
)

// HandleFastHTTP is the fasthttp.RequestHandler that serves the engine:
// POST on the configured path, the body handed to the engine, the answer
// sent as application/json, or 204 when nothing is owed. It allocates
// nothing in steady state beyond what handlers allocate.
func (s *Server) HandleFastHTTP(ctx *fasthttp.RequestCtx) {
	if !bytes.Equal(ctx.Path(), s.path) {
		ctx.Error("not found", fasthttp.StatusNotFound)
		return
	}
	if !bytes.Equal(ctx.Method(), strPost) {
		ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
		ctx.Response.Header.Set(fasthttp.HeaderAllow, fasthttp.MethodPost) // after Error, which resets the headers
		return
	}
	out := bytebufferpool.Get()
	// The RequestCtx is the call's context: it is done when the server shuts down.
	s.engine.Handle(ctx, ctx.PostBody(), out)
	if len(out.B) == 0 {
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	} else {
		ctx.Response.Header.SetContentTypeBytes(strApplicationJSON)
		ctx.Response.SetBody(out.B)
	}
	bytebufferpool.Put(out)
}

// ListenAndServe listens on the configured address and serves until
// Shutdown; it then returns nil.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve serves connections from ln until Shutdown; it then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits for in-flight requests to
// be answered, or for ctx to be done, whichever comes first.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.ShutdownWithContext(ctx) }
