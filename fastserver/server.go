package fastserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/httpsem"
	"github.com/valyala/bytebufferpool"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/reuseport"
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
	// DefaultWriteTimeout bounds writing an answer to a client that stops
	// reading.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout bounds an idle keep-alive connection.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxConns bounds open connections (fasthttp's own default): each
	// costs a few KiB of buffers.
	DefaultMaxConns = 256 * 1024
	// DefaultMaxInFlight bounds calls being handled at once; past it, HTTP
	// 503 answers at once instead of queueing work the server cannot do.
	DefaultMaxInFlight = 10_000
)

// Config configures a Server. The zero value serves DefaultPath on
// DefaultAddr with the default limits.
type Config struct {
	// Addr is the TCP address to listen on; DefaultAddr when empty.
	Addr string
	// Unix, when set, is the path of a unix socket to listen on instead
	// of Addr.
	Unix string
	// Path is the only path served (404 elsewhere); DefaultPath when empty.
	Path string
	// MaxBodySize is the largest request body accepted, in bytes;
	// DefaultMaxBodySize when 0. Larger bodies get 413.
	MaxBodySize int
	// ReadTimeout bounds reading one request; DefaultReadTimeout when 0.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one answer; DefaultWriteTimeout when 0.
	WriteTimeout time.Duration
	// IdleTimeout bounds waiting for the next request on a keep-alive
	// connection; DefaultIdleTimeout when 0.
	IdleTimeout time.Duration
	// MaxConns bounds open connections; DefaultMaxConns when 0.
	MaxConns int
	// MaxConnsPerIP bounds open connections from one IP; 0 means no bound,
	// the default, because a load generator, a proxy or a NAT legitimately
	// opens many from one address.
	MaxConnsPerIP int
	// MaxInFlight bounds requests being handled at once (503 past it);
	// DefaultMaxInFlight when 0.
	MaxInFlight int
	// TLSCertFile and TLSKeyFile, when both are set, make the server speak
	// HTTPS with that certificate and key (PEM files).
	TLSCertFile, TLSKeyFile string
	// Workers is the number of SO_REUSEPORT listeners on Addr, so that the
	// kernel spreads connections across them; 1 when 0.
	Workers int
	// CORSOrigin, when set ("*" or an origin), answers browser preflight
	// requests and allows that origin to read answers. Off by default.
	CORSOrigin string
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
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Server serves an engine.Engine over HTTP with fasthttp. It is safe for
// concurrent use.
type Server struct {
	engine   *engine.Engine
	cfg      Config
	path     []byte
	srv      *fasthttp.Server
	inFlight atomic.Int64
	// calls is the parent of every call's context: Shutdown cancels it
	// when its grace period is over, not before.
	calls       context.Context
	cancelCalls context.CancelFunc
	contexts    sync.Pool // *callContext
}

// New returns a Server for e. It does not listen until Serve or
// ListenAndServe.
func New(e *engine.Engine, cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{engine: e, cfg: cfg, path: []byte(cfg.Path)}
	s.calls, s.cancelCalls = context.WithCancel(context.Background())
	s.contexts.New = func() any { return &callContext{base: s.calls} }
	s.srv = NewFastHTTPServer(s.HandleFastHTTP, cfg)
	return s
}

// NewFastHTTPServer returns the fasthttp.Server that Server uses, with cfg's
// limits, around any handler. Benchmarks use it to run a bare handler
// under the very same settings.
func NewFastHTTPServer(h fasthttp.RequestHandler, cfg Config) *fasthttp.Server {
	cfg = cfg.withDefaults()
	return &fasthttp.Server{
		Handler:            h,
		Name:               "jetrpc",
		MaxRequestBodySize: cfg.MaxBodySize,
		ReadTimeout:        cfg.ReadTimeout,
		WriteTimeout:       cfg.WriteTimeout,
		IdleTimeout:        cfg.IdleTimeout,
		Concurrency:        cfg.MaxConns,
		// MaxConnsPerIP is enforced by Serve's listener (perip.go), not here.
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
	strOptions         = []byte(fasthttp.MethodOptions)
	strApplicationJSON = []byte("application/json")
)

// HandleFastHTTP is the fasthttp.RequestHandler that serves the engine:
// POST on the configured path with a JSON content type, the body handed to
// the engine, the answer sent as application/json, or 204 when nothing is
// owed. It allocates nothing in steady state beyond what handlers
// allocate.
func (s *Server) HandleFastHTTP(ctx *fasthttp.RequestCtx) {
	if !bytes.Equal(ctx.Path(), s.path) {
		ctx.Error("not found", fasthttp.StatusNotFound)
		return
	}
	if s.cfg.CORSOrigin != "" {
		h := &ctx.Response.Header
		h.Set(fasthttp.HeaderAccessControlAllowOrigin, s.cfg.CORSOrigin)
		if bytes.Equal(ctx.Method(), strOptions) {
			h.Set(fasthttp.HeaderAccessControlAllowMethods, httpsem.CORSMethods)
			h.Set(fasthttp.HeaderAccessControlAllowHeaders, httpsem.CORSHeaders)
			h.Set(fasthttp.HeaderAccessControlMaxAge, httpsem.CORSMaxAge)
			ctx.SetStatusCode(fasthttp.StatusNoContent)
			return
		}
	}
	if !bytes.Equal(ctx.Method(), strPost) {
		ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
		ctx.Response.Header.Set(fasthttp.HeaderAllow, httpsem.AllowedMethods) // after Error, which resets the headers
		return
	}
	if !httpsem.AcceptedContentType(ctx.Request.Header.ContentType()) {
		ctx.Error("content type must be application/json", fasthttp.StatusUnsupportedMediaType)
		return
	}
	if s.inFlight.Add(1) > int64(s.cfg.MaxInFlight) {
		s.inFlight.Add(-1)
		ctx.Error("too many calls in flight", fasthttp.StatusServiceUnavailable)
		ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "1")
		return
	}
	cc := s.contexts.Get().(*callContext)
	cc.rc = ctx
	out := bytebufferpool.Get()
	s.engine.Handle(cc, ctx.PostBody(), out)
	cc.rc = nil
	s.contexts.Put(cc)
	s.inFlight.Add(-1)
	if len(out.B) == 0 {
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	} else {
		ctx.Response.Header.SetContentTypeBytes(strApplicationJSON)
		ctx.Response.SetBody(out.B)
	}
	bytebufferpool.Put(out)
}

// callContext is a call's context: cancelled when Shutdown's grace period
// ends, and the carrier of the request's engine.Metadata.
type callContext struct {
	base context.Context
	rc   *fasthttp.RequestCtx
}

func (c *callContext) Deadline() (time.Time, bool) { return c.base.Deadline() }
func (c *callContext) Done() <-chan struct{}       { return c.base.Done() }
func (c *callContext) Err() error                  { return c.base.Err() }
func (c *callContext) Value(key any) any {
	if _, ok := key.(engine.MetadataKey); ok {
		return c
	}
	return c.base.Value(key)
}

// RemoteAddr implements engine.Metadata.
func (c *callContext) RemoteAddr() net.Addr { return c.rc.RemoteAddr() }

// Header implements engine.Metadata.
func (c *callContext) Header(name string) []byte { return c.rc.Request.Header.Peek(name) }

// ListenAndServe listens as configured (Addr, or Unix; Workers
// SO_REUSEPORT listeners; TLS when a certificate is set) and serves until
// Shutdown; it then returns nil.
func (s *Server) ListenAndServe() error {
	lns, err := s.Listen()
	if err != nil {
		return err
	}
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errs <- s.Serve(ln) }()
	}
	var first error
	for range lns {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Listen opens the configured listeners without serving them: one on Addr
// or Unix, or Workers SO_REUSEPORT listeners on Addr.
func (s *Server) Listen() ([]net.Listener, error) {
	if s.cfg.Unix != "" {
		ln, err := net.Listen("unix", s.cfg.Unix)
		if err != nil {
			return nil, err
		}
		return []net.Listener{ln}, nil
	}
	if s.cfg.Workers == 1 {
		ln, err := net.Listen("tcp", s.cfg.Addr)
		if err != nil {
			return nil, err
		}
		return []net.Listener{ln}, nil
	}
	var lns []net.Listener
	for range s.cfg.Workers {
		ln, err := reuseport.Listen("tcp4", s.cfg.Addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("fastserver: SO_REUSEPORT listener: %w", err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// Serve serves connections from ln (over TLS when the config sets a
// certificate) until Shutdown; it then returns nil. It may be called for
// several listeners at once.
func (s *Server) Serve(ln net.Listener) error {
	tls := s.cfg.TLSCertFile != "" && s.cfg.TLSKeyFile != ""
	if s.cfg.MaxConnsPerIP > 0 {
		ln = newPerIPListener(ln, s.cfg.MaxConnsPerIP, tls)
	}
	var err error
	if tls {
		err = s.srv.ServeTLS(ln, s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
	} else {
		err = s.srv.Serve(ln)
	}
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and lets in-flight calls finish and
// answer. When ctx is done first, it cancels the contexts of the calls
// still running (so that they answer at once) and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	stop := context.AfterFunc(ctx, s.cancelCalls)
	defer stop()
	err := s.srv.ShutdownWithContext(ctx)
	if err != nil {
		s.cancelCalls()
	}
	return err
}
