package fastserver

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jetrpc/jetrpc/internal/httpsem"
	"github.com/valyala/fasthttp"
)

// listener hands fasthttp connections that the server tracks (see conn),
// within MaxConns and MaxConnsPerIP; connections past a bound are answered
// (503 or 429, readable: see lingerClose) and closed here, so that fasthttp
// never sees them. Over TLS it is below fasthttp and above the socket.
type listener struct {
	net.Listener
	s   *Server
	tls *tls.Config
}

// Accept returns the next connection the server takes.
func (l *listener) Accept() (net.Conn, error) {
	for {
		sock, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		c, refusal := l.s.admit(sock)
		if c == nil {
			l.s.refuseConn(sock, refusal, l.tls != nil)
			continue
		}
		if l.tls != nil {
			c.Conn = tls.Server(sock, l.tls) // the handshake runs on the first Read, in the connection's goroutine
		}
		return c, nil
	}
}

// conn is a connection the server tracks, from accept to close. It makes
// three things possible that fasthttp alone does not:
//
//   - refusals every client can read: a connection closed after an error
//     answer half-closes and drains what its client still sends (linger);
//   - shutdown that does not wait for connections that never sent a byte;
//   - the right status for headers over the read buffer (414 or 431) and an
//     immediate 400 for a header block ended by a bare LF, by observing
//     fasthttp's read buffer (see Read).
//
// It also carries the call in progress, so that the watcher can cancel it
// when its client goes away. Its cost per request is a pointer comparison
// and an atomic load in Read.
type conn struct {
	net.Conn          // what fasthttp reads and writes: the socket, or TLS over it
	sock     net.Conn // the socket
	s        *Server
	ip       string // the key of the per-IP count

	// rbuf is fasthttp's read buffer for this connection, learned from the
	// first Read (bufio fills its fresh buffer whole); it stays the same
	// for the connection's life. Only the connection's goroutine uses it.
	rbuf []byte
	// lineDone records, when a Read filled rbuf, whether what it holds
	// includes the end of the request line: a header over the buffer is
	// then 431, otherwise the request line itself is too long (414).
	lineDone bool

	accepted time.Time   // see closeFresh
	used     atomic.Bool // a byte has been read: no longer a fresh connection
	linger   atomic.Bool // drain what the client still sends before closing
	closed   atomic.Bool
	owes     atomic.Bool // counted in Server.owed: see Server.oweIfDraining
	call     callContext // the context of the request in progress
}

// errBareLF ends a request whose header block ends with a bare LF, which
// fasthttp would otherwise wait on until the read timeout (see Read).
var errBareLF = errors.New("fastserver: the header block ends with a bare LF; lines end with CRLF")

// Read reads from the connection into p and observes fasthttp's read
// buffer. When bufio asks for more while it holds a whole header block
// that ends with a bare LF, fasthttp's header scanner (which needs
// CRLFCRLF) would wait for bytes that never come: Read fails instead, and
// the request is answered 400 at once (RFC 9112 §2.2 allows either
// accepting bare LF or answering 400).
func (c *conn) Read(p []byte) (int, error) {
	w, inBuffer := c.offsetInReadBuffer(p)
	if inBuffer && w > 0 && endsWithBareLF(c.rbuf[:w]) {
		return 0, errBareLF
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		if !c.used.Load() {
			c.used.Store(true)
		}
		if inBuffer && w+n == len(c.rbuf) { // the buffer is full: rare, and cheap then
			c.lineDone = bytes.IndexByte(c.rbuf, '\n') >= 0
		}
	}
	return n, err
}

// offsetInReadBuffer reports whether p is the free end of fasthttp's read
// buffer, and where it starts. bufio slides unread bytes to the front
// before it reads, so then rbuf[:w] is exactly what it holds unread.
func (c *conn) offsetInReadBuffer(p []byte) (w int, ok bool) {
	if c.rbuf == nil {
		if len(p) != c.s.cfg.MaxHeaderBytes {
			return 0, false
		}
		c.rbuf = p
		return 0, true
	}
	w, ok = offsetIn(c.rbuf, p)
	return w, ok && w+len(p) == len(c.rbuf)
}

// endsWithBareLF reports whether b starts with a request line and holds a
// whole header block whose empty line is not CRLF CRLF. Requiring the
// request line keeps a chunked body's bytes from matching.
func endsWithBareLF(b []byte) bool {
	i := bytes.IndexByte(b, '\n')
	if i < 0 || !looksLikeRequestLine(b[:i]) {
		return false
	}
	// b[i] is the LF that ends a line; the block ends at the first empty line.
	for i+1 < len(b) {
		switch {
		case b[i+1] == '\n':
			return true // an empty line ended by a bare LF
		case b[i+1] == '\r' && i+2 < len(b) && b[i+2] == '\n':
			return b[i-1] != '\r' // CRLF CRLF is the proper end; LF CRLF is not
		}
		next := bytes.IndexByte(b[i+1:], '\n')
		if next < 0 {
			return false
		}
		i += 1 + next
	}
	return false
}

// looksLikeRequestLine reports whether line is "TOKEN SP target SP
// HTTP/1.x", with or without its CR.
func looksLikeRequestLine(line []byte) bool {
	line = bytes.TrimSuffix(line, []byte("\r"))
	sp := bytes.IndexByte(line, ' ')
	return sp > 0 && bytes.LastIndexByte(line, ' ') > sp && bytes.HasSuffix(line[:len(line)-1], []byte(" HTTP/1."))
}

// Close closes the connection once. One that ended with an error answer
// (or with Connection: close, past which a client may have sent more)
// lingers first, in its own goroutine: see lingerClose.
func (c *conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.owes.CompareAndSwap(true, false) { // fasthttp closes a connection after it wrote what it owed
		c.s.owed.Add(-1)
	}
	if c.linger.Load() && c.s.cfg.LingerTimeout > 0 {
		go c.s.lingerClose(c.Conn, c.sock, c.forget)
		return nil
	}
	err := c.Conn.Close()
	c.forget()
	return err
}

// forget removes the connection from the server's counts.
func (c *conn) forget() { c.s.forget(c) }

// lingerOnClose makes the connection drain what its client still sends
// when it is closed.
func (c *conn) lingerOnClose() {
	if c != nil {
		c.linger.Store(true)
	}
}

// connOf returns the tracked connection a request came on, or nil when
// the handler serves a connection the server did not accept.
func connOf(ctx *fasthttp.RequestCtx) *conn {
	c, _ := ctx.Conn().(*conn)
	return c
}

// admit tracks sock within MaxConns and MaxConnsPerIP, or returns nil and
// the refusal to answer with. A connection accepted from a listener as
// Shutdown closes it is taken and served: its client may have sent a
// request already (ServeConn refuses connections once Shutdown has begun).
func (s *Server) admit(sock net.Conn) (*conn, []byte) {
	ip := ipOf(sock.RemoteAddr())
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case len(s.conns) >= s.cfg.MaxConns:
		s.observeConnRefusal(fasthttp.StatusServiceUnavailable, s.refusals.tooManyConns)
		return nil, s.refusals.tooManyConns
	case s.cfg.MaxConnsPerIP > 0 && s.perIP[ip] >= s.cfg.MaxConnsPerIP:
		s.observeConnRefusal(fasthttp.StatusTooManyRequests, s.refusals.tooManyFromIP)
		return nil, s.refusals.tooManyFromIP
	}
	c := &conn{Conn: sock, sock: sock, s: s, ip: ip, accepted: time.Now()}
	c.call = callContext{s: s, conn: c, done: make(chan struct{})}
	s.conns[c] = struct{}{}
	s.perIP[ip]++
	if s.cfg.Observer != nil {
		s.cfg.Observer.ObserveConns(1)
	}
	return c, nil
}

// observeConnRefusal tells the observer of a connection refused with a
// pre-encoded answer (headers and body: counted whole).
func (s *Server) observeConnRefusal(status int, refusal []byte) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.ObserveHTTP(status, 0, len(refusal))
	}
}

// forget drops c from the counts; Shutdown waits for this of every
// connection.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; !ok {
		return
	}
	delete(s.conns, c)
	if s.cfg.Observer != nil {
		s.cfg.Observer.ObserveConns(-1)
	}
	if s.perIP[c.ip] <= 1 {
		delete(s.perIP, c.ip) // the map holds only live peers
	} else {
		s.perIP[c.ip]--
	}
}

// freshGrace is how long a connection accepted just before shutdown may
// stay silent before shutdown closes it: its client may have sent a
// request that has not arrived yet.
const freshGrace = 100 * time.Millisecond

// closeFresh closes the connections that have not sent a byte since they
// were accepted at least freshGrace ago, so that they do not hold a
// graceful shutdown (fasthttp, like net/http, counts such a connection as
// idle only after 5 s); it reports how many stay open. A connection whose
// bytes wait unread in the kernel (a server too busy to read them yet) is
// not silent and stays. One whose first bytes are in flight right now
// loses them: its client sees the connection close before any request was
// read.
func (s *Server) closeFresh() (open int) {
	s.mu.Lock()
	var fresh []*conn
	for c := range s.conns {
		if !c.used.Load() && time.Since(c.accepted) >= freshGrace && !httpsem.Unread(c.sock) {
			fresh = append(fresh, c)
		}
	}
	open = len(s.conns) - len(fresh)
	s.mu.Unlock()
	for _, c := range fresh {
		c.Close()
	}
	return open
}

// closeFreshUntilDone closes fresh connections (see closeFresh) now and
// every freshGrace/4 until the returned function is called.
func (s *Server) closeFreshUntilDone() (stop func()) {
	s.closeFresh()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(freshGrace / 4)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.closeFresh()
			}
		}
	}()
	return func() { close(done) }
}

// closeAll closes every tracked connection at the end of a shutdown,
// lingering ones included (closing the socket ends their drain).
func (s *Server) closeAll() {
	s.mu.Lock()
	all := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		c.linger.Store(false)
		c.Close()
		c.sock.Close()
	}
}

// openConns returns the number of tracked connections, lingering ones
// included.
func (s *Server) openConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// maxLingeringRefusals bounds the refused connections (past MaxConns or
// MaxConnsPerIP) that linger at once; past it they close at once. The
// connections that are served linger within MaxConns.
const maxLingeringRefusals = 1024

// refuseConn answers a connection the server does not take and closes it,
// lingering if there is room. Over TLS it is closed without a word: the
// client speaks TLS, not plaintext.
func (s *Server) refuseConn(sock net.Conn, refusal []byte, isTLS bool) {
	if refusal == nil || isTLS {
		sock.Close()
		return
	}
	sock.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := sock.Write(refusal); err != nil || s.cfg.LingerTimeout <= 0 {
		sock.Close()
		return
	}
	if s.lingeringRefusals.Add(1) > maxLingeringRefusals {
		s.lingeringRefusals.Add(-1)
		sock.Close()
		return
	}
	go s.lingerClose(sock, sock, func() { s.lingeringRefusals.Add(-1) })
}

// drainBuffers hold what lingering connections read and discard.
var drainBuffers = sync.Pool{New: func() any { return new([32 << 10]byte) }}

// lingerClose closes c (the connection as served) after half-closing the
// socket and reading and discarding what the client still sends, until
// it closes its side, for at most LingerTimeout and LingerBytes; then
// done runs. Closing a socket with unread bytes makes the kernel send a
// reset, which can destroy an answer the client has not read yet, so a
// client still sending its body would see "connection reset" instead of
// the 413 (RFC 9112 §9.6; nginx lingering_close, Go's closeWriteAndWait).
func (s *Server) lingerClose(c, sock net.Conn, done func()) {
	defer done()
	defer c.Close()
	if tc, ok := c.(*tls.Conn); ok {
		tc.SetWriteDeadline(time.Now().Add(time.Second))
		tc.CloseWrite() // close_notify: the end of the TLS stream
	}
	hc, ok := sock.(interface{ CloseWrite() error })
	if !ok {
		return // an in-memory connection: nothing to drain from
	}
	if hc.CloseWrite() != nil {
		return
	}
	sock.SetReadDeadline(time.Now().Add(s.cfg.LingerTimeout))
	buf := drainBuffers.Get().(*[32 << 10]byte)
	defer drainBuffers.Put(buf)
	for drained := 0; drained < s.cfg.LingerBytes; {
		n, err := sock.Read(buf[:])
		drained += n
		if err != nil {
			return // the client closed its side (io.EOF), or the time is up
		}
	}
}

// ipOf is the IP of a remote address ("" for unix sockets, which all
// share one bound).
func ipOf(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return ""
	}
	return host
}

// refusals are the pre-encoded answers to connections the server does
// not take, with CORS when it is on.
type refusals struct {
	tooManyConns, tooManyFromIP []byte
}

func newRefusals(cfg Config) refusals {
	return refusals{
		tooManyConns:  encodeRefusal(cfg, fasthttp.StatusServiceUnavailable, "too many connections\n", "Retry-After: 1\r\n"),
		tooManyFromIP: encodeRefusal(cfg, fasthttp.StatusTooManyRequests, "too many connections from your IP\n", "Retry-After: 1\r\n"),
	}
}

func encodeRefusal(cfg Config, status int, body, extra string) []byte {
	h := "HTTP/1.1 " + strconv.Itoa(status) + " " + fasthttp.StatusMessage(status) + "\r\n" +
		"Server: jetrpc\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n" + extra
	if cfg.CORSOrigin != "" {
		h += "Access-Control-Allow-Origin: " + cfg.CORSOrigin + "\r\n"
	}
	return []byte(h + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}
