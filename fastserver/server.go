package fastserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/httpsem"
	"github.com/jetrpc/jetrpc/stream"
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
	DefaultMaxBodySize = httpsem.MaxBodySize
	// DefaultMaxHeaderBytes bounds the request line and headers (414 or
	// 431 above it): Node's default, room for an 8 KB bearer token. It is
	// also each connection's read buffer, so it costs that much memory per
	// open connection.
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultReadTimeout bounds reading a request, so that a client that
	// stops sending cannot hold a connection and its buffers forever.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds writing an answer to a client that stops
	// reading, and handling a request (see Config.WriteTimeout).
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout bounds an idle keep-alive connection.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxConns bounds open connections (fasthttp's own default): each
	// costs a few KiB of buffers.
	DefaultMaxConns = 256 * 1024
	// DefaultMaxInFlight bounds requests being handled, or answered with
	// more than 16 KiB not yet written, at once; past it, HTTP 503 answers
	// at once instead of queueing work the server cannot do.
	DefaultMaxInFlight = 10_000
	// DefaultMaxBufferedBytes bounds the large request bodies and answers
	// held at once, server-wide: 16 maximal bodies, or their answers. Under
	// a 1 GB address-space limit a Go heap has room for about 250 MiB;
	// this leaves the garbage collector its share.
	DefaultMaxBufferedBytes = 64 << 20
	// DefaultLingerTimeout bounds how long a connection closed after an
	// error answer drains what its client still sends.
	DefaultLingerTimeout = httpsem.LingerTimeout
	// DefaultLingerBytes bounds what such a connection drains: twice the
	// largest body a confused client is likely to push (64 MiB), about
	// 0.1 s of CPU over loopback.
	DefaultLingerBytes = httpsem.LingerBytes
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
	// MaxHeaderBytes bounds the request line and headers together;
	// DefaultMaxHeaderBytes when 0. A request line longer than that gets
	// 414, headers that do not fit 431. It is each connection's read
	// buffer.
	MaxHeaderBytes int
	// ReadTimeout bounds reading one request; DefaultReadTimeout when 0.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one answer; DefaultWriteTimeout when 0.
	// It also bounds handling a request, as go-ethereum derives its
	// request timeout from it: the calls' context has the request's start
	// plus WriteTimeout as its deadline, a call still running then is
	// cancelled, and the calls of a batch not started by then answer
	// engine.ErrCallTimeout without running.
	WriteTimeout time.Duration
	// IdleTimeout bounds waiting for the next request on a keep-alive
	// connection; DefaultIdleTimeout when 0.
	IdleTimeout time.Duration
	// MaxConns bounds open connections, lingering ones included (503
	// past it); DefaultMaxConns when 0.
	MaxConns int
	// MaxConnsPerIP bounds open connections from one IP (429 past it); 0
	// means no bound, the default, because a load generator, a proxy or a
	// NAT legitimately opens many from one address.
	MaxConnsPerIP int
	// MaxInFlight bounds requests being handled, or answered with more
	// than 16 KiB not yet written, at once (503 past it);
	// DefaultMaxInFlight when 0. (A smaller answer waits in its
	// connection's buffers, which MaxConns bounds.)
	MaxInFlight int
	// MaxBufferedBytes bounds the request bodies and answers over 16 KiB
	// that the server holds at once, summed over all connections: a body
	// from when its headers arrive until it has been handled, an answer
	// until it is written. A body that does not fit is refused with 503
	// before it is read, and while the bound is reached every new call is
	// refused with 503, so that clients that send large requests and
	// never read their answers cost at most this much memory.
	// DefaultMaxBufferedBytes when 0.
	MaxBufferedBytes int
	// LingerTimeout bounds how long a connection that the server closes
	// after an error answer (413, 431, 414, 408, 400, 503 past a limit)
	// or during shutdown drains what its client still sends, so that the
	// client reads the answer instead of a reset; DefaultLingerTimeout
	// when 0, no lingering when negative.
	LingerTimeout time.Duration
	// LingerBytes bounds what such a connection drains; DefaultLingerBytes
	// when 0.
	LingerBytes int
	// TLSCertFile and TLSKeyFile, when both are set, make the server speak
	// HTTPS with that certificate and key (PEM files).
	TLSCertFile, TLSKeyFile string
	// Workers is the number of SO_REUSEPORT listeners on Addr, so that the
	// kernel spreads connections across them; 1 when 0.
	Workers int
	// CORSOrigin, when set ("*" or an origin), answers browser preflight
	// requests and allows that origin to read every answer, refusals
	// included. Off by default.
	CORSOrigin string
	// Logger receives fasthttp's connection errors (client misbehaviour,
	// at Debug level); slog.Default() when nil.
	Logger *slog.Logger
	// Observer, when set, is told of every HTTP request to Path, refusals
	// included, and of connections opening and closing, for metrics
	// (metrics.Metrics is one).
	Observer Observer
	// NoWebSocket turns WebSocket off. By default a GET on Path with
	// Upgrade: websocket becomes a persistent connection served by a
	// stream.Server: one JSON-RPC message per frame, many calls in flight,
	// notifications and subscriptions pushed by the server.
	NoWebSocket bool
	// WebSocketOrigins lists the Origin headers allowed to open a
	// WebSocket ("*" allows any). When empty, only requests without an
	// Origin (programs) or from the server's own host are upgraded: a
	// browser page elsewhere cannot reach the API with its user's cookies.
	WebSocketOrigins []string
	// Stream configures the WebSocket connections: message size
	// (MaxBodySize by default), calls in flight per connection, buffered
	// answers, ping interval. Its Framing, MaxInFlight and InFlight are
	// the server's own.
	Stream stream.Config
}

// Observer is told what the server does, for metrics. Its methods run on
// the request path, concurrently: they must be cheap and safe for
// concurrent use.
type Observer interface {
	// ObserveHTTP is called once per request answered on Path or refused
	// (wherever it was sent: a refusal may come before the path is read),
	// with the status, the request body's length (as declared, for a
	// refused body) and the answer body's.
	ObserveHTTP(status, requestBytes, answerBytes int)
	// ObserveConns is called with +1 when a connection is accepted and -1
	// when it is closed.
	ObserveConns(delta int)
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	setDefault(&c.MaxBodySize, DefaultMaxBodySize)
	setDefault(&c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&c.ReadTimeout, DefaultReadTimeout)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.MaxConns, DefaultMaxConns)
	setDefault(&c.MaxInFlight, DefaultMaxInFlight)
	setDefault(&c.MaxBufferedBytes, DefaultMaxBufferedBytes)
	setDefault(&c.LingerBytes, DefaultLingerBytes)
	setDefault(&c.Workers, 1)
	if c.LingerTimeout == 0 {
		c.LingerTimeout = DefaultLingerTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// setDefault sets a zero or negative limit to its default.
func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Server serves an engine.Engine over HTTP with fasthttp. It is safe for
// concurrent use.
type Server struct {
	engine   *engine.Engine
	cfg      Config
	path     []byte
	srv      *fasthttp.Server
	refusals refusals

	inFlight atomic.Int64
	// owed counts the connections that owe an answer given while the
	// server drains: each closes once its answer is written (Connection:
	// close), and Shutdown waits for that (see oweIfDraining).
	owed     atomic.Int64
	buffered atomic.Int64 // bytes counted against MaxBufferedBytes
	// highWater is set when buffered passes a share of the bound; see unbuffer.
	highWater atomic.Bool
	stopping  atomic.Bool                        // Shutdown has begun
	closing   atomic.Bool                        // Shutdown has closed the listeners
	draining  atomic.Bool                        // Drain or Shutdown has begun: not ready
	handlers  map[string]fasthttp.RequestHandler // see Handle
	cancelled atomic.Bool                        // Shutdown's grace period is over

	mu        sync.Mutex
	conns     map[*conn]struct{}
	perIP     map[string]int
	untracked map[*callContext]struct{} // calls on connections the server did not accept
	listeners map[net.Listener]struct{} // being served: Shutdown closes them

	bodyMu sync.Mutex
	bodies map[*fasthttp.RequestHeader]int // see holdBody

	callPool          sync.Pool // *callContext
	startWatch        sync.Once
	stopWatchOnce     sync.Once
	stopWatch         chan struct{}
	lingeringRefusals atomic.Int64

	streams  *stream.Server // WebSocket connections
	upgrader websocket.FastHTTPUpgrader
}

// New returns a Server for e. It does not listen until Serve or
// ListenAndServe.
func New(e *engine.Engine, cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		engine: e, cfg: cfg, path: []byte(cfg.Path), refusals: newRefusals(cfg),
		conns: map[*conn]struct{}{}, perIP: map[string]int{}, untracked: map[*callContext]struct{}{},
		bodies: map[*fasthttp.RequestHeader]int{}, stopWatch: make(chan struct{}),
	}
	s.callPool.New = func() any { return &callContext{s: s, done: make(chan struct{})} }
	s.srv = newFastHTTPServer(s.HandleFastHTTP, cfg, s.handleRequestError)
	s.srv.HeaderReceived = s.headerReceived
	s.srv.ExpectHandler = s.expect
	sc := cfg.Stream
	if sc.MaxMessageSize == 0 {
		sc.MaxMessageSize = cfg.MaxBodySize
	}
	sc.MaxInFlight, sc.InFlight = cfg.MaxInFlight, &s.inFlight
	if sc.Logger == nil {
		sc.Logger = cfg.Logger
	}
	s.streams = stream.New(e, sc)
	s.upgrader.CheckOrigin = func(ctx *fasthttp.RequestCtx) bool {
		return httpsem.WebSocketOriginAllowed(string(ctx.Request.Header.Peek("Origin")), string(ctx.Host()), cfg.WebSocketOrigins)
	}
	return s
}

// Streams returns the stream.Server that serves the WebSocket
// connections, for embedders that also serve streams (a TCP or unix
// listener, stdio) with the same bounds.
func (s *Server) Streams() *stream.Server { return s.streams }

// upgrade turns the request into a WebSocket connection served by the
// stream server; a bad handshake is refused by the upgrader (400, 403).
func (s *Server) upgrade(ctx *fasthttp.RequestCtx) {
	if s.closing.Load() || s.draining.Load() {
		refuse(ctx, s.cfg, fasthttp.StatusServiceUnavailable)
		return
	}
	_ = s.upgrader.Upgrade(ctx, func(ws *websocket.Conn) {
		_ = s.streams.ServeWebSocket(ws.NetConn())
	})
}

// NewFastHTTPServer returns a fasthttp.Server with cfg's limits around any
// handler, as Server uses them. Benchmarks use it to run a bare handler
// under the very same settings. Requests it cannot read get the status
// Server would give them, without Server's accounting.
func NewFastHTTPServer(h fasthttp.RequestHandler, cfg Config) *fasthttp.Server {
	cfg = cfg.withDefaults()
	return newFastHTTPServer(h, cfg, func(ctx *fasthttp.RequestCtx, err error) {
		refuse(ctx, cfg, statusOfReadError(err, connOf(ctx)))
	})
}

func newFastHTTPServer(h fasthttp.RequestHandler, cfg Config, onError func(*fasthttp.RequestCtx, error)) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:            h,
		Name:               "jetrpc",
		MaxRequestBodySize: cfg.MaxBodySize,
		ReadBufferSize:     cfg.MaxHeaderBytes,
		ReadTimeout:        cfg.ReadTimeout,
		WriteTimeout:       cfg.WriteTimeout,
		IdleTimeout:        cfg.IdleTimeout,
		// The listener bounds connections (MaxConns, lingering included)
		// before fasthttp sees them; this only sizes its worker pool.
		Concurrency:          cfg.MaxConns,
		NoDefaultContentType: true,
		CloseOnShutdown:      true,
		ErrorHandler:         onError,
		Logger:               debugLogger{cfg.Logger},
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
//
// It may serve a fasthttp.Server of the caller's own; then connections
// are not tracked, and what needs them (lingering after refusals, calls
// cancelled when their client leaves) does not happen.
func (s *Server) HandleFastHTTP(ctx *fasthttp.RequestCtx) {
	c := connOf(ctx)
	if h := s.handlers; h != nil && !bytes.Equal(ctx.Path(), s.path) {
		if h := h[string(ctx.Path())]; h != nil { // no allocation: the compiler reads the bytes in place
			h(ctx)
			s.endIfDraining(ctx, c)
			return
		}
	}
	in, out := s.handle(ctx, c)
	if s.cfg.Observer != nil {
		s.cfg.Observer.ObserveHTTP(ctx.Response.StatusCode(), in, out)
	}
	s.endIfDraining(ctx, c)
}

// endIfDraining ends a keep-alive connection with this answer once the
// server drains or shuts down.
func (s *Server) endIfDraining(ctx *fasthttp.RequestCtx, c *conn) {
	if s.draining.Load() {
		// After whatever reset the response: a keep-alive client learns that
		// this connection ends here, and one that already sent its next
		// request gets a drained close, not a reset.
		ctx.Response.Header.SetConnectionClose()
		c.lingerOnClose()
		s.owe(c)
	}
}

// oweIfDraining records, while the server drains, that c owes the answer
// being handed to fasthttp: c closes once it is written (endIfDraining
// asks for Connection: close), and Shutdown waits for that before it
// closes what is left. A call's answer is marked before the call stops
// counting in MaxInFlight, so that Shutdown, which waits for both counts,
// never sees the answer in neither. (An answer given in the instant
// before draining began, and one held back by fasthttp behind a pipelined
// request that never completes, are not waited for.)
func (s *Server) oweIfDraining(c *conn) {
	if s.draining.Load() {
		s.owe(c)
	}
}

// owe counts c in owed until it closes (conn.Close), once. A connection
// already closed (by Shutdown, under a call that outlived it) owes
// nothing: whichever of owe and Close clears the mark takes the count back.
func (s *Server) owe(c *conn) {
	if c != nil && !c.owes.Swap(true) {
		s.owed.Add(1)
		if c.closed.Load() && c.owes.CompareAndSwap(true, false) {
			s.owed.Add(-1)
		}
	}
}

// handle serves one request and returns the lengths of its body and of
// its answer's.
func (s *Server) handle(ctx *fasthttp.RequestCtx, c *conn) (in, out int) {
	if s.cfg.CORSOrigin != "" {
		if bytes.Equal(ctx.Method(), strOptions) && bytes.Equal(ctx.Path(), s.path) {
			s.preflight(ctx)
			return 0, 0
		}
		ctx.Response.Header.Set(fasthttp.HeaderAccessControlAllowOrigin, s.cfg.CORSOrigin)
	}
	if !s.cfg.NoWebSocket && ctx.IsGet() && bytes.Equal(ctx.Path(), s.path) && websocket.FastHTTPIsWebSocketUpgrade(ctx) {
		s.upgrade(ctx)
		return 0, 0
	}
	if status := s.check(ctx); status != 0 {
		return s.refuseRead(ctx, status)
	}
	if s.inFlight.Add(1) > int64(s.cfg.MaxInFlight) || s.overBuffered() {
		s.inFlight.Add(-1)
		return s.refuseRead(ctx, fasthttp.StatusServiceUnavailable)
	}
	cc := s.acquireCall(ctx, c)
	body := ctx.PostBody()
	// The answer is appended to the response's own body buffer, taken out
	// and put back: no copy, and fasthttp pools it as for any body.
	b := s.engine.Append(cc, ctx.Response.SwapBody(nil)[:0], body)
	s.releaseCall(cc)
	// The body's count in MaxBufferedBytes passes to a large answer (an
	// echo's is as large): released first, it could be taken by another
	// body before the answer is counted, and the count pass the bound.
	held := 0
	if len(body) > countedBytes {
		held = s.takeBody(&ctx.Request.Header)
	}
	// Nothing of the request is needed any more: give its body back now,
	// not after the answer is written to a client that may read slowly.
	ctx.Request.ReleaseBody(countedBytes) // a large body goes to the collector, not to fasthttp's pool
	ctx.Request.ResetBody()
	in, out = len(body), len(b)
	s.oweIfDraining(c)
	if out > countedBytes {
		s.send(ctx, b, held)
		return in, out
	}
	if held > 0 {
		s.unbuffer(held)
	}
	// A small answer waits in its connection's buffers, which MaxConns
	// bounds: it stops counting in MaxInFlight now.
	ctx.Response.SwapBody(b)
	s.inFlight.Add(-1)
	if out == 0 {
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	} else {
		ctx.Response.Header.SetContentTypeBytes(strApplicationJSON)
	}
	return in, out
}

// refuseRead refuses a request whose body was read, and stops counting
// the body in MaxBufferedBytes (headerReceived counted it). It returns
// the lengths of the body and of the refusal.
func (s *Server) refuseRead(ctx *fasthttp.RequestCtx, status int) (in, out int) {
	in = len(ctx.Request.Body())
	if in > countedBytes {
		s.releaseBody(&ctx.Request.Header)
	}
	refuse(ctx, s.cfg, status)
	return in, len(ctx.Response.Body())
}

// check applies the HTTP rules a request must pass before its body is
// handled: it returns 0, or the status to refuse it with.
func (s *Server) check(ctx *fasthttp.RequestCtx) int {
	switch {
	case !bytes.Equal(ctx.Path(), s.path):
		return fasthttp.StatusNotFound
	case !bytes.Equal(ctx.Method(), strPost):
		return fasthttp.StatusMethodNotAllowed
	case !httpsem.AcceptedContentType(ctx.Request.Header.ContentType()):
		return fasthttp.StatusUnsupportedMediaType
	}
	return 0
}

// preflight answers a browser's CORS preflight request.
func (s *Server) preflight(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	h.Set(fasthttp.HeaderAccessControlAllowOrigin, s.cfg.CORSOrigin)
	h.Set(fasthttp.HeaderAccessControlAllowMethods, httpsem.CORSMethods)
	h.Set(fasthttp.HeaderAccessControlAllowHeaders, httpsem.CORSHeaders)
	h.Set(fasthttp.HeaderAccessControlMaxAge, httpsem.CORSMaxAge)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// errConnRefused is what ServeConn returns for a connection the server
// does not take: it is shutting down, or the connection is past MaxConns
// or MaxConnsPerIP (the connection was answered 503 or 429).
var errConnRefused = errors.New("fastserver: connection refused: shutting down or over a connection bound")

// ErrServerClosed is returned by ListenAndServe, Serve and ServeConn once
// Shutdown has begun, as net/http's http.ErrServerClosed. Shutdown is then
// still at work: a program that must not exit before every call was
// answered waits for Shutdown to return, or uses Run.
var ErrServerClosed = errors.New("fastserver: Server closed")

// ListenAndServe listens as configured (Addr, or Unix; Workers
// SO_REUSEPORT listeners; TLS when a certificate is set) and serves until
// Shutdown; it then returns ErrServerClosed. See Run for a server that
// returns only once drained.
func (s *Server) ListenAndServe() error {
	lns, err := s.Listen()
	if err != nil {
		return err
	}
	return s.serveAll(lns)
}

// serveAll serves every listener and returns the first error.
func (s *Server) serveAll(lns []net.Listener) error {
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errs <- s.Serve(ln) }()
	}
	first := <-errs
	if !errors.Is(first, ErrServerClosed) {
		for _, ln := range lns {
			ln.Close() // one listener failed: stop serving the others too
		}
	}
	for range lns[1:] {
		<-errs
	}
	return first
}

// Run listens as configured and serves until ctx is done, then shuts down
// gracefully (see Shutdown) with grace as the period in-flight calls have
// before they are cancelled. It returns once every accepted call was
// answered: nil, ErrUnanswered when some were not within the grace period
// and the wait after it, or the error that stopped serving (such as a port
// already taken). With signal.NotifyContext it is a server that stops
// cleanly on Ctrl-C:
//
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
//	defer stop()
//	err := srv.Run(ctx, 10*time.Second)
func (s *Server) Run(ctx context.Context, grace time.Duration) error {
	lns, err := s.Listen()
	if err != nil {
		return err
	}
	return s.RunOn(ctx, grace, lns...)
}

// RunOn is Run on listeners already open, such as those Listen returns
// (to learn the port of Addr ":0" before serving). It closes them.
func (s *Server) RunOn(ctx context.Context, grace time.Duration, lns ...net.Listener) error {
	if len(lns) == 0 {
		return errors.New("fastserver: RunOn without a listener")
	}
	served := make(chan error, 1)
	go func() { served <- s.serveAll(lns) }()
	select {
	case err := <-served:
		if !errors.Is(err, ErrServerClosed) {
			// Serving failed: stop what may still run, briefly.
			sctx, cancel := context.WithTimeout(context.Background(), grace)
			defer cancel()
			s.Shutdown(sctx)
			return err
		}
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return s.Shutdown(sctx)
}

// Listen opens the configured listeners without serving them: one on Addr
// or Unix, or Workers SO_REUSEPORT listeners on Addr (with port 0, all on
// the port the first one gets).
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
	addr := s.cfg.Addr
	for range s.cfg.Workers {
		ln, err := reuseport.Listen("tcp4", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("fastserver: SO_REUSEPORT listener: %w", err)
		}
		lns = append(lns, ln)
		addr = ln.Addr().String() // port 0: the others join the port the first got
	}
	return lns, nil
}

// Serve serves connections from ln (over TLS when the config sets a
// certificate) until Shutdown; it then returns ErrServerClosed. It may be
// called for several listeners at once.
func (s *Server) Serve(ln net.Listener) error {
	l := &listener{Listener: ln, s: s}
	if s.cfg.TLSCertFile != "" && s.cfg.TLSKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("fastserver: TLS certificate: %w", err)
		}
		l.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	// Registered under the lock Shutdown closes listeners under: a Serve
	// that starts as Shutdown does either sees closing or is closed by it.
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	err := s.srv.Serve(l)
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
	if s.stopping.Load() { // the listener was shut down by Shutdown (httpsem.Quiesce)
		return ErrServerClosed
	}
	return err
}

// ServeConn serves the requests of one connection, such as an in-memory
// one, with everything Serve gives a connection it accepts, and closes it.
// It returns when the connection ends; ErrServerClosed, having closed it,
// once Shutdown has begun.
func (s *Server) ServeConn(c net.Conn) error {
	if s.closing.Load() {
		c.Close()
		return ErrServerClosed
	}
	tc, refusal := s.admit(c)
	if tc == nil {
		s.refuseConn(c, refusal, false)
		if s.closing.Load() {
			return ErrServerClosed
		}
		return errConnRefused
	}
	return s.srv.ServeConn(tc)
}

// quiesceWait bounds how long Shutdown waits, before it closes a listener,
// for the connections queued in the kernel to be accepted (httpsem.Quiesce).
const quiesceWait = 250 * time.Millisecond

// shutdownWait bounds how long Shutdown waits, once its grace period is
// over and the calls still running are cancelled, for their answers to be
// written (a cancelled call answers at once; a client that stops reading
// is cut off by WriteTimeout) and for lingering connections to close.
const shutdownWait = 2 * time.Second

// ErrUnanswered is returned by Shutdown when calls were still without an
// answer when it gave up.
var ErrUnanswered = errors.New("fastserver: shutdown: calls left unanswered")

// Shutdown stops the server gracefully: it stops accepting, closes at once
// the connections that never sent a byte, lets the calls in flight finish
// and answer (each with Connection: close, so that keep-alive clients
// move on), and closes connections as they fall idle. If ctx is done first,
// it cancels the calls still running, which then answer at once (a
// handler must watch its context), and waits up to two more seconds for
// those answers to be written. It returns nil when every call the server
// accepted was answered, and ErrUnanswered otherwise; either way every
// connection is closed when it returns.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopping.Store(true)
	s.draining.Store(true)
	s.mu.Lock()
	lns := make([]net.Listener, 0, len(s.listeners))
	for ln := range s.listeners {
		lns = append(lns, ln)
	}
	s.mu.Unlock()
	for _, ln := range lns {
		httpsem.Quiesce(ln, quiesceWait) // connections queued in the kernel are accepted, not reset
	}
	s.mu.Lock()
	s.closing.Store(true)
	for ln := range s.listeners {
		ln.Close() // fasthttp closes those it knows; this one may not be known yet
	}
	s.mu.Unlock()
	stopClosingFresh := s.closeFreshUntilDone()
	defer stopClosingFresh()
	// WebSocket connections answer what they read, say goodbye (1001)
	// and close, alongside the HTTP ones.
	streamsDone := make(chan struct{})
	go func() { _ = s.streams.Shutdown(ctx); close(streamsDone) }()
	defer func() { <-streamsDone }()
	stop := context.AfterFunc(ctx, s.cancelCalls)
	defer stop()
	// fasthttp closes idle connections until its own are all closed or the
	// grace period ends; its nil says nothing of the connections it does
	// not count (it returns at once when it serves no listener, as for
	// ServeConn alone), so the server's own counts decide. Connections
	// that linger after a refusal may drain until the grace period ends.
	answered := func() bool { return s.inFlight.Load() == 0 && s.owed.Load() == 0 }
	_ = s.srv.ShutdownWithContext(ctx)
	waitUntil(ctx.Done(), func() bool { return answered() && s.openConns() == 0 })
	if ctx.Err() != nil {
		// The grace period is over and the calls still running are
		// cancelled: they answer at once; wait for those answers.
		s.cancelCalls()
		wait, cancel := context.WithTimeout(context.Background(), shutdownWait)
		waitUntil(wait.Done(), answered)
		cancel()
	}
	unanswered := s.inFlight.Load() + s.owed.Load() // calls running, and answers not yet written
	s.closeAll()
	// A lingering connection is forgotten by its own goroutine once its
	// socket is closed: wait (briefly) for that.
	wait, cancel := context.WithTimeout(context.Background(), shutdownWait)
	waitUntil(wait.Done(), func() bool { return s.openConns() == 0 })
	cancel()
	s.stopWatching()
	if unanswered > 0 {
		return fmt.Errorf("%w: %d", ErrUnanswered, unanswered)
	}
	return nil
}

// waitUntil checks cond every 5 ms until it holds or done is closed. A
// shutdown is rare enough that polling beats the machinery to signal.
func waitUntil(done <-chan struct{}, cond func() bool) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

// stopWatching ends the watcher goroutine, if it started; it never starts
// after this.
func (s *Server) stopWatching() {
	s.startWatch.Do(func() {})
	s.stopWatchOnce.Do(func() { close(s.stopWatch) })
}
