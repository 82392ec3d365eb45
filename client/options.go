package client

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Option configures a Client made by Dial, or a transport made by
// NewFastHTTP or NewHTTP. Options a transport has no use for are ignored.
type Option struct {
	apply func(*settings)
}

// settings is what the options set.
type settings struct {
	header     [][2]string
	timeout    time.Duration
	tlsConfig  *tls.Config
	unixSocket string
	maxConns   int
	httpClient *http.Client
	dial       func(addr string) (net.Conn, error)
	trace      *tracer
	// Persistent connections (persistent.go, subscribe.go).
	reconnect      *reconnectPolicy
	onNotification func(method string, params []byte)
	subBuffer      int
}

func newSettings(opts []Option) *settings {
	s := &settings{}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(s)
		}
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	return s
}

// WithHeader adds a header sent with every request, such as
// Authorization; repeat it for more.
func WithHeader(name, value string) Option {
	return Option{func(s *settings) { s.header = append(s.header, [2]string{name, value}) }}
}

// WithTimeout bounds one round trip (DefaultTimeout when not given); a
// context deadline that comes sooner wins.
func WithTimeout(d time.Duration) Option { return Option{func(s *settings) { s.timeout = d }} }

// WithTLSConfig sets the TLS configuration of https URLs.
func WithTLSConfig(c *tls.Config) Option { return Option{func(s *settings) { s.tlsConfig = c }} }

// WithUnixSocket connects to the unix socket at path instead of the URL's
// host; the URL's path is still the one requested
// (client.Dial("http://localhost/json-rpc", client.WithUnixSocket(path))).
func WithUnixSocket(path string) Option { return Option{func(s *settings) { s.unixSocket = path }} }

// WithMaxConns bounds the pooled connections of the fasthttp transport
// (fasthttp's default when 0).
func WithMaxConns(n int) Option { return Option{func(s *settings) { s.maxConns = n }} }

// WithHTTPClient makes Dial use the net/http transport through c, for
// proxies and http.RoundTripper middleware, instead of fasthttp.
func WithHTTPClient(c *http.Client) Option { return Option{func(s *settings) { s.httpClient = c }} }

// WithDial replaces how the fasthttp transport connects, e.g. to reach an
// in-memory listener in tests.
func WithDial(dial func(addr string) (net.Conn, error)) Option {
	return Option{func(s *settings) { s.dial = dial }}
}

// WithTrace writes every request and answer to w, one line each, as
// jsonrpcclient logs them:
//
//	--> {"jsonrpc":"2.0","method":"ping","id":1}
//	<-- {"jsonrpc":"2.0","result":"pong","id":1} (200 OK)
//
// Lines are written whole, also from concurrent calls. It costs a write
// per line.
func WithTrace(w io.Writer) Option { return Option{func(s *settings) { s.trace = &tracer{w: w} }} }

// Dial returns a Client for the JSON-RPC endpoint at rawURL, with the
// transport its scheme calls for: http and https over fasthttp (pooled
// keep-alive connections), or over net/http with WithHTTPClient, which do
// not connect until the first call; or one persistent connection, opened
// at once, on which many calls are in flight together (answers matched by
// id, writes coalesced) and subscriptions work (Subscribe):
//
//	ws://host/path, wss://host/path   WebSocket (WithHeader and WithTLSConfig apply to the handshake)
//	tcp://host:port                   newline-delimited JSON; tcp://host:port?framing=header for LSP headers
//	unix:///path/to/socket            the same on a unix socket (?framing=header too)
//
// WithReconnect redials a lost persistent connection; NewStream serves one
// io.ReadWriteCloser (a child process's stdin and stdout).
//
//	c, err := client.Dial("http://127.0.0.1:8080/json-rpc", client.WithTimeout(5*time.Second))
func Dial(rawURL string, opts ...Option) (*Client, error) {
	if !strings.Contains(rawURL, "://") {
		return nil, fmt.Errorf("client: URL %q has no scheme (http://, https://, ws://, wss://, tcp://, unix://)", rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
		s := newSettings(opts)
		if s.httpClient != nil {
			return New(newHTTP(u, s)), nil
		}
		return New(newFastHTTP(u, s)), nil
	case "ws", "wss", "tcp", "unix":
		t, err := dialPersistent(u, newSettings(opts))
		if err != nil {
			return nil, err
		}
		return New(t), nil
	}
	return nil, fmt.Errorf("client: URL %q: scheme %q is not supported (http, https, ws, wss, tcp, unix)", rawURL, u.Scheme)
}

// parseHTTPURL parses an http or https URL.
func parseHTTPURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("client: URL %q: scheme must be http or https", rawURL)
	}
	return u, nil
}
