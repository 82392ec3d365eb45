package stream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/httpsem"
)

// Defaults of Config, each a bound on what one connection can make the
// server do or hold.
const (
	// DefaultMaxMessageSize bounds one message, as the HTTP servers bound
	// a request body.
	DefaultMaxMessageSize = httpsem.MaxBodySize
	// DefaultMaxInFlightPerConn bounds the calls of one connection
	// running at once; reading it stops while they do.
	DefaultMaxInFlightPerConn = 64
	// DefaultMaxInFlight bounds the messages being handled at once on
	// all connections of a Server.
	DefaultMaxInFlight = 10_000
	// DefaultMaxBufferedBytes bounds a connection's answers not yet
	// written: past it, the calls that answer wait (and reading stops)
	// until the client reads or WriteTimeout closes the connection.
	DefaultMaxBufferedBytes = 4 << 20
	// DefaultReadTimeout bounds reading the rest of a message once its
	// first bytes arrived.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds one write to a client that stops reading.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout closes a connection with nothing to do: no call
	// running, no subscription, no message for this long. WebSocket
	// connections are kept alive by pings instead.
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultPingInterval is how long a WebSocket connection may be
	// silent before the server pings it; a client that then stays silent
	// for another interval is disconnected.
	DefaultPingInterval = 30 * time.Second
)

// Config configures a Server; the zero value uses the defaults.
type Config struct {
	// Framing cuts messages out of the stream; Line when zero.
	Framing Framing
	// MaxMessageSize bounds one message; DefaultMaxMessageSize when 0.
	MaxMessageSize int
	// MaxInFlightPerConn bounds one connection's calls running at once;
	// DefaultMaxInFlightPerConn when 0.
	MaxInFlightPerConn int
	// MaxInFlight bounds messages handled at once on all connections;
	// DefaultMaxInFlight when 0. InFlight, when set, is the counter it
	// reads, shared with an HTTP server's own bound.
	MaxInFlight int
	InFlight    *atomic.Int64
	// MaxBufferedBytes bounds one connection's unwritten answers;
	// DefaultMaxBufferedBytes when 0.
	MaxBufferedBytes int
	// ReadTimeout, WriteTimeout and IdleTimeout: see the defaults. They
	// apply to connections with deadlines (net.Conn); a negative value
	// turns one off.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// PingInterval is the WebSocket keep-alive; DefaultPingInterval when 0.
	PingInterval time.Duration
	// Logger gets connection-level errors (framing, writes); none when nil.
	Logger *slog.Logger
	// ObserveConns, when set, is told of each connection opened (+1) and
	// closed (-1), as a metrics gauge wants.
	ObserveConns func(delta int)
}

func (c *Config) setDefaults() {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	set(&c.MaxMessageSize, DefaultMaxMessageSize)
	set(&c.MaxInFlightPerConn, DefaultMaxInFlightPerConn)
	set(&c.MaxInFlight, DefaultMaxInFlight)
	set(&c.MaxBufferedBytes, DefaultMaxBufferedBytes)
	setD(&c.ReadTimeout, DefaultReadTimeout)
	setD(&c.WriteTimeout, DefaultWriteTimeout)
	setD(&c.IdleTimeout, DefaultIdleTimeout)
	setD(&c.PingInterval, DefaultPingInterval)
	if c.InFlight == nil {
		c.InFlight = new(atomic.Int64)
	}
}

// ErrServerClosed is returned by Serve and ServeConn once Shutdown began.
var ErrServerClosed = errors.New("stream: server closed")

// Server serves one engine over persistent connections: listeners (TCP,
// unix sockets), single streams (stdio) and, through the HTTP servers,
// upgraded WebSocket connections. It is safe for concurrent use.
type Server struct {
	engine *engine.Engine
	cfg    Config

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   bool
	// base is the context of every connection; cancel ends their calls
	// when Shutdown's grace runs out.
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // connections

	// epoch counts the watchdog's ticks; a message running inline records
	// the epoch it began in.
	epoch    atomic.Uint64
	watchMu  sync.Mutex
	watching []*conn
	watchOn  bool

	// For benchmarks (export_test.go): answer replaces the engine, to
	// time the framing alone; spawn runs each message on a goroutine of
	// its own, the design the inline reader is measured against.
	answer func(dst, msg []byte) []byte
	spawn  bool
}

// New returns a Server of e with cfg.
func New(e *engine.Engine, cfg Config) *Server {
	cfg.setDefaults()
	s := &Server{engine: e, cfg: cfg, listeners: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{}}
	s.base, s.cancel = context.WithCancel(context.Background())
	s.epoch.Store(1)
	return s
}

// Config returns the server's configuration, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Serve accepts connections on ln and serves each on its own goroutine
// until Shutdown (ErrServerClosed) or an accept error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		go func() { _ = s.ServeConn(nc) }()
	}
}

// ServeConn serves one connection (a net.Conn, or any io.ReadWriteCloser
// such as stdio) until the client closes it, a framing error, or
// Shutdown; it closes rwc before returning. Deadlines apply when rwc has
// them (SetReadDeadline and SetWriteDeadline).
func (s *Server) ServeConn(rwc io.ReadWriteCloser) error {
	return s.serveConn(rwc, s.cfg.Framing)
}

// ServeWebSocket serves a connection whose WebSocket handshake is done
// (the HTTP servers call it after the upgrade), with the WebSocket framing.
func (s *Server) ServeWebSocket(nc net.Conn) error {
	return s.serveConn(nc, WebSocket)
}

func (s *Server) serveConn(rwc io.ReadWriteCloser, f Framing) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		rwc.Close()
		return ErrServerClosed
	}
	c := newConn(s, rwc, f)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	if s.cfg.ObserveConns != nil {
		s.cfg.ObserveConns(1)
	}
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		if s.cfg.ObserveConns != nil {
			s.cfg.ObserveConns(-1)
		}
		s.wg.Done()
	}()
	return c.serve()
}

// Conns returns the number of connections open now.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Shutdown stops the server gracefully: listeners close, every connection
// stops reading new messages, answers the calls it has read (those already
// running and those already received), ends its subscriptions, says
// goodbye (a WebSocket close frame with 1001) and closes. When ctx ends
// first, the calls still running are cancelled (they answer -32000) and
// Shutdown returns ctx's error once their connections closed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	// Under mu: a connection still listed has not returned from
	// ServeConn, so its rwc is still ours (an HTTP server reuses a
	// hijacked connection's wrapper once the handler returns).
	for c := range s.conns {
		c.beginClose()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.cancel() // running calls see their context end
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		s.mu.Lock()
		for c := range s.conns {
			c.rwc.Close()
		}
		s.mu.Unlock()
		<-done
	}
	return ctx.Err()
}

// Pipe joins r and w into one stream, as a process's standard input and
// output are (Pipe(os.Stdin, os.Stdout)), for ServeConn. Closing it closes
// both. Deadlines reach whichever of them supports them.
func Pipe(r io.ReadCloser, w io.WriteCloser) io.ReadWriteCloser { return &pipe{r, w} }

type pipe struct {
	io.ReadCloser
	w io.WriteCloser
}

func (p *pipe) Write(b []byte) (int, error) { return p.w.Write(b) }

func (p *pipe) Close() error {
	return errors.Join(p.ReadCloser.Close(), p.w.Close())
}

func (p *pipe) SetReadDeadline(t time.Time) error {
	if d, ok := p.ReadCloser.(interface{ SetReadDeadline(time.Time) error }); ok {
		return d.SetReadDeadline(t)
	}
	return os.ErrNoDeadline
}

func (p *pipe) SetWriteDeadline(t time.Time) error {
	if d, ok := p.w.(interface{ SetWriteDeadline(time.Time) error }); ok {
		return d.SetWriteDeadline(t)
	}
	return os.ErrNoDeadline
}
