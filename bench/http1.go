package bench

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxAnswer bounds one HTTP answer (headers and body) the generator reads.
const maxAnswer = 64 << 20

// errAnswerTooLarge is a transport failure of its own kind.
var errAnswerTooLarge = errors.New("bench: answer larger than 64 MiB")

// httpConn is one worker's HTTP/1.1 keep-alive connection. Requests are
// pre-encoded (request line, headers and body in one buffer) and written
// with one write (on plain TCP together with the wait for the answer: see
// writeThenWait); answers are read into a reused buffer and parsed only as
// far as the status and the body (Content-Length, chunked, or until the
// server closes). A general client (fasthttp's) spent a fifth of the
// generator's CPU on header building and parsing and its connection pool.
type httpConn struct {
	dial   func() (net.Conn, error)
	conn   net.Conn
	raw    syscall.RawConn    // plain TCP: see writeThenWait
	rawFn  func(uintptr) bool // c.rawStep, bound once (a method value made per call would allocate)
	rawReq []byte             // the request being written by rawStep
	wrote  int                // bytes of rawReq written
	waited bool               // rawStep wrote it all and waits for the answer
	rawErr error
	reused bool   // conn has carried an answer already
	buf    []byte // what was read: the answer's head, then its body
	n      int    // bytes of buf filled
	chunks []byte // a chunked body, reassembled
}

// endpoint is where the load goes.
type endpoint struct {
	addr string // host:port
	tls  bool
	head []byte // the request head up to Content-Length
}

func parseEndpoint(raw string) (*endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("want http://host[:port]/path or https://…, not %q", raw)
	}
	e := &endpoint{addr: u.Host, tls: u.Scheme == "https"}
	if u.Port() == "" {
		port := "80"
		if e.tls {
			port = "443"
		}
		e.addr = net.JoinHostPort(u.Hostname(), port)
	}
	e.head = fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: jetrpc-bench\r\n"+
		"Content-Type: application/json\r\n", u.RequestURI(), u.Host)
	return e, nil
}

// addHeaders adds header lines to every request, in name order; names
// and values that would break the request's framing are refused.
func (e *endpoint) addHeaders(header map[string]string) error {
	names := slices.Sorted(maps.Keys(header))
	for _, name := range names {
		value := header[name]
		if name == "" || strings.ContainsAny(name, " \t\r\n:") || strings.ContainsAny(value, "\r\n") {
			return fmt.Errorf("bench: bad header %q: %q", name, value)
		}
		switch strings.ToLower(name) {
		case "host", "content-length", "transfer-encoding", "connection":
			return fmt.Errorf("bench: header %s is the generator's own", name)
		case "content-type", "user-agent":
			e.head = deleteHeader(e.head, name)
		}
		e.head = fmt.Appendf(e.head, "%s: %s\r\n", name, value)
	}
	return nil
}

// deleteHeader removes the line of header name from head.
func deleteHeader(head []byte, name string) []byte {
	for at := 0; at < len(head); {
		end := at + bytes.Index(head[at:], []byte("\r\n")) + 2
		if k, _, ok := bytes.Cut(head[at:end], []byte(":")); ok && bytes.EqualFold(k, []byte(name)) {
			return append(head[:at], head[end:]...)
		}
		at = end
	}
	return head
}

// request returns the whole HTTP request of body and the offset of body in it.
func (e *endpoint) request(body []byte) ([]byte, int) {
	r := append(append([]byte(nil), e.head...), "Content-Length: "...)
	r = strconv.AppendInt(r, int64(len(body)), 10)
	r = append(r, "\r\n\r\n"...)
	return append(r, body...), len(r)
}

// dialer returns how the generator connects to the endpoint.
func dialer(u *endpoint, dial func(addr string) (net.Conn, error), config *tls.Config) func() (net.Conn, error) {
	if u.tls {
		host, _, _ := net.SplitHostPort(u.addr)
		if config == nil {
			config = &tls.Config{}
		}
		if config.ServerName == "" {
			config = config.Clone()
			config.ServerName = host
		}
	}
	return func() (net.Conn, error) {
		var conn net.Conn
		var err error
		if dial != nil {
			conn, err = dial(u.addr)
		} else {
			conn, err = net.DialTimeout("tcp", u.addr, 10*time.Second)
		}
		if err != nil || !u.tls {
			return conn, err
		}
		return tls.Client(conn, config), nil
	}
}

// roundTrip writes req and reads its answer: the HTTP status and the body,
// valid until the next call. On any failure the connection is closed and
// the next call dials again.
func (c *httpConn) roundTrip(req []byte, timeout time.Duration) (int, []byte, error) {
	status, body, err := c.try(req, timeout)
	if err != nil && c.reused && c.n == 0 && !isTimeout(err) {
		// A keep-alive connection the server closed while idle fails
		// before any byte of the answer: send again on a new one.
		c.close()
		status, body, err = c.try(req, timeout)
	}
	if err != nil {
		c.close()
	}
	return status, body, err
}

func (c *httpConn) try(req []byte, timeout time.Duration) (int, []byte, error) {
	c.n = 0
	if c.conn == nil {
		conn, err := c.dial()
		if err != nil {
			return 0, nil, err
		}
		c.conn, c.reused, c.raw = conn, false, nil
		if tcp, ok := conn.(*net.TCPConn); ok {
			c.raw, _ = tcp.SyscallConn()
		}
		if c.buf == nil {
			c.buf = make([]byte, 16<<10)
			c.rawFn = c.rawStep
		}
	}
	if err := c.conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return 0, nil, err
	}
	if c.raw != nil {
		if err := c.writeThenWait(req); err != nil {
			return 0, nil, err
		}
	} else if _, err := c.conn.Write(req); err != nil {
		return 0, nil, err
	}
	head, err := c.readHead()
	if err != nil {
		return 0, nil, err
	}
	status, length, chunked, closing, err := parseHead(c.buf[:head])
	if err != nil {
		return 0, nil, err
	}
	var body []byte
	switch {
	case status == 204 || status == 304 || status < 200:
		length = 0
		fallthrough
	case length >= 0:
		if err := c.fill(head+length, false); err != nil {
			return 0, nil, err
		}
		body = c.buf[head : head+length]
		closing = closing || c.n > head+length // bytes nobody asked for: do not trust the connection
	case chunked:
		if body, err = c.readChunked(head); err != nil {
			return 0, nil, err
		}
	default: // neither: the body ends when the server closes
		if err := c.fill(maxAnswer, true); err != nil {
			return 0, nil, err
		}
		body, closing = c.buf[head:c.n], true
	}
	c.reused = true
	if closing {
		c.close()
	}
	return status, body, nil
}

// writeThenWait writes req and reads the first bytes of its answer in one
// RawConn.Read. Go's own Read tries read(2) first and waits for the poller
// only on EAGAIN, and the answer to a request just sent is almost never
// there yet: that failed read(2) was a third of the generator's system
// calls. Here the write happens inside the callback, after RawConn.Read
// has reset the poller's readiness, so that the answer's arrival, which
// follows the write, is the wake-up waited for: one write(2) and one
// read(2) a request, as an epoll loop does. A write that does not finish
// at once (a full socket buffer) is completed the ordinary way.
func (c *httpConn) writeThenWait(req []byte) error {
	c.rawReq, c.wrote, c.waited, c.rawErr = req, 0, false, nil
	err := c.raw.Read(c.rawFn)
	c.rawReq = nil
	switch {
	case err != nil: // the deadline, or a closed connection
		return err
	case c.rawErr != nil:
		return c.rawErr
	case c.wrote < len(req):
		_, err = c.conn.Write(req[c.wrote:])
	}
	return err
}

// rawStep is writeThenWait's callback: first the write, then (when the
// poller says readable) one read into buf; false means "wait until
// readable".
func (c *httpConn) rawStep(fd uintptr) bool {
	if !c.waited {
		for c.wrote < len(c.rawReq) {
			n, err := syscall.Write(int(fd), c.rawReq[c.wrote:])
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				return true // writeThenWait finishes the write
			case err != nil:
				c.rawErr = os.NewSyscallError("write", err)
				return true
			}
			c.wrote += n
		}
		c.waited = true
		return false
	}
	for {
		n, err := syscall.Read(int(fd), c.buf[c.n:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false // a stale wake-up: wait again
		case err != nil:
			c.rawErr = os.NewSyscallError("read", err)
		case n == 0:
			c.rawErr = io.EOF
		default:
			c.n += n
		}
		return true
	}
}

// readHead reads until the end of the answer's head and returns its length.
func (c *httpConn) readHead() (int, error) {
	from := 0
	for {
		if i := bytes.Index(c.buf[from:c.n], []byte("\r\n\r\n")); i >= 0 {
			return from + i + 4, nil
		}
		from = max(c.n-3, 0)
		if err := c.more(); err != nil {
			return 0, err
		}
	}
}

// fill reads until buf holds n bytes; with toEOF, until the server closes
// (n is then only the bound).
func (c *httpConn) fill(n int, toEOF bool) error {
	if n > maxAnswer {
		return errAnswerTooLarge
	}
	for c.n < n {
		if err := c.more(); err != nil {
			if toEOF && errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
	if toEOF {
		return errAnswerTooLarge
	}
	return nil
}

// more reads once into buf, growing it when full.
func (c *httpConn) more() error {
	if c.n == len(c.buf) {
		if len(c.buf) >= maxAnswer {
			return errAnswerTooLarge
		}
		c.buf = slices.Grow(c.buf, len(c.buf))
		c.buf = c.buf[:cap(c.buf)]
	}
	k, err := c.conn.Read(c.buf[c.n:])
	c.n += k
	if k > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// readChunked reads a chunked body that starts at buf[at:] and returns it
// reassembled.
func (c *httpConn) readChunked(at int) ([]byte, error) {
	c.chunks = c.chunks[:0]
	for {
		line, err := c.line(at)
		if err != nil {
			return nil, err
		}
		size, err := strconv.ParseUint(string(trimExtension(c.buf[at:line-2])), 16, 32)
		if err != nil || size > maxAnswer {
			return nil, fmt.Errorf("bench: bad chunk size %.20q", c.buf[at:line-2])
		}
		at = line
		if size == 0 { // the trailers, up to an empty line
			for {
				end, err := c.line(at)
				if err != nil {
					return nil, err
				}
				if end-at == 2 {
					return c.chunks, nil
				}
				at = end
			}
		}
		if err := c.fill(at+int(size)+2, false); err != nil {
			return nil, err
		}
		if string(c.buf[at+int(size):at+int(size)+2]) != "\r\n" {
			return nil, errors.New("bench: chunk not followed by CRLF")
		}
		c.chunks = append(c.chunks, c.buf[at:at+int(size)]...)
		at += int(size) + 2
	}
}

// line reads until a CRLF at or after at and returns the offset past it.
func (c *httpConn) line(at int) (int, error) {
	for {
		if i := bytes.Index(c.buf[at:c.n], []byte("\r\n")); i >= 0 {
			return at + i + 2, nil
		}
		if err := c.more(); err != nil {
			return 0, err
		}
	}
}

func trimExtension(size []byte) []byte {
	if i := bytes.IndexByte(size, ';'); i >= 0 {
		size = size[:i]
	}
	return bytes.TrimSpace(size)
}

// isTimeout reports whether err is a deadline's (any net.Conn's, not only
// the net package's own).
func isTimeout(err error) bool {
	if err == nil {
		return false
	}
	var te interface{ Timeout() bool }
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &te) && te.Timeout()
}

func (c *httpConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// parseHead reads the status line and the headers that frame the body.
// length is -1 when there is no Content-Length.
func parseHead(head []byte) (status, length int, chunked, closing bool, err error) {
	end := bytes.Index(head, []byte("\r\n"))
	line := head[:end]
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' {
		return 0, 0, false, false, fmt.Errorf("bench: not an HTTP/1.x answer: %.40q", line)
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return 0, 0, false, false, fmt.Errorf("bench: bad status line %.40q", line)
		}
		status = status*10 + int(d-'0')
	}
	if status < 100 || (len(line) > 12 && line[12] != ' ') {
		return 0, 0, false, false, fmt.Errorf("bench: bad status line %.40q", line)
	}
	closing = line[7] == '0' // HTTP/1.0 closes unless told otherwise
	length = -1
	for rest := head[end+2:]; len(rest) > 2; {
		i := bytes.Index(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(rest[:i], []byte(":"))
		rest = rest[i+2:]
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("content-length")):
			n, perr := strconv.Atoi(string(value))
			if perr != nil || n < 0 {
				return 0, 0, false, false, fmt.Errorf("bench: bad Content-Length %.20q", value)
			}
			length = n
		case bytes.EqualFold(name, []byte("transfer-encoding")):
			chunked = containsFold(value, "chunked")
		case bytes.EqualFold(name, []byte("connection")):
			if containsFold(value, "close") {
				closing = true
			} else if containsFold(value, "keep-alive") {
				closing = false
			}
		}
	}
	if chunked {
		length = -1 // chunked wins over a Content-Length (RFC 9112, 6.3)
	}
	return status, length, chunked, closing, nil
}

// containsFold reports whether b contains s, ignoring ASCII case.
func containsFold(b []byte, s string) bool {
	sb := []byte(s) // short: on the stack
	for i := 0; i+len(sb) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(sb)], sb) {
			return true
		}
	}
	return false
}
