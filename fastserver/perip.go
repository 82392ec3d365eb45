package fastserver

import (
	"net"
	"strconv"
	"sync"
	"time"
)

// perIPListener bounds open connections per remote IP. fasthttp's own
// MaxConnsPerIP is not used: in v1.74.0 its perIPConn.Close clears the
// connection under a lock while the connection's reader uses it without
// one, a data race when Shutdown closes idle connections.
//
// It costs a map update per accepted connection, nothing per request.
type perIPListener struct {
	net.Listener
	max int
	tls bool // refused connections are closed without a plaintext answer
	mu  sync.Mutex
	// open counts the open connections of each IP; an IP with none has
	// no entry, so the map holds only live peers.
	open map[string]int
}

func newPerIPListener(ln net.Listener, max int, tls bool) *perIPListener {
	return &perIPListener{Listener: ln, max: max, tls: tls, open: map[string]int{}}
}

// tooMany is what a refused connection gets.
var tooMany = []byte("HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nConnection: close\r\n" +
	"Content-Length: " + strconv.Itoa(len(tooManyBody)) + "\r\n\r\n" + tooManyBody)

const tooManyBody = "too many connections from your IP\n"

// Accept returns the next connection within the bound; connections past it
// are answered 429 and closed.
func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := ipOf(c.RemoteAddr())
		l.mu.Lock()
		n := l.open[ip]
		if n >= l.max {
			l.mu.Unlock()
			if !l.tls {
				c.SetWriteDeadline(time.Now().Add(time.Second))
				c.Write(tooMany)
			}
			c.Close()
			continue
		}
		l.open[ip] = n + 1
		l.mu.Unlock()
		return &countedConn{Conn: c, l: l, ip: ip}, nil
	}
}

func (l *perIPListener) release(ip string) {
	l.mu.Lock()
	if l.open[ip] <= 1 {
		delete(l.open, ip)
	} else {
		l.open[ip]--
	}
	l.mu.Unlock()
}

// countedConn gives its IP's slot back when it is closed, once.
type countedConn struct {
	net.Conn
	l    *perIPListener
	ip   string
	once sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
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
