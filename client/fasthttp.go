package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/valyala/bytebufferpool"
	"github.com/valyala/fasthttp"
)

// DefaultTimeout bounds one round trip when neither the transport's config
// nor the call's context sets a shorter one, so that a dead server cannot
// hang a caller forever.
const DefaultTimeout = 30 * time.Second

// FastHTTPConfig configures a FastHTTP transport. The zero value is usable.
type FastHTTPConfig struct {
	// Timeout bounds one round trip; DefaultTimeout when 0. A context
	// deadline that comes sooner wins.
	Timeout time.Duration
	// TLSConfig is used for https URLs; nil means the defaults.
	TLSConfig *tls.Config
	// UnixSocket, when set, is the path of a unix socket to connect to
	// instead of the URL's host (the URL's path is still sent).
	UnixSocket string
	// Header holds headers sent with every request, such as
	// Authorization.
	Header map[string]string
	// MaxConns bounds the pooled connections; fasthttp's default when 0.
	MaxConns int
}

// FastHTTP is a Transport over fasthttp, with pooled keep-alive
// connections (fasthttp.HostClient). It is safe for concurrent use.
//
// With a context that cannot be cancelled (context.Background, or one
// with only values), a round trip allocates nothing in steady state. A
// context that can be cancelled costs a goroutine and a copy of the
// request per call, so that cancellation returns at once.
type FastHTTP struct {
	hc      *fasthttp.HostClient
	uri     string
	timeout time.Duration
	header  [][2]string
}

// NewFastHTTP returns a transport posting to rawURL (http or https).
func NewFastHTTP(rawURL string, cfg FastHTTPConfig) (*FastHTTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("client: URL %q: scheme must be http or https", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	t := &FastHTTP{
		hc: &fasthttp.HostClient{
			Addr:      addr,
			IsTLS:     u.Scheme == "https",
			TLSConfig: cfg.TLSConfig,
			MaxConns:  cfg.MaxConns,
			Name:      "jetrpc",
		},
		uri:     u.String(),
		timeout: cfg.Timeout,
	}
	if t.timeout <= 0 {
		t.timeout = DefaultTimeout
	}
	if cfg.UnixSocket != "" {
		path := cfg.UnixSocket
		t.hc.Dial = func(string) (net.Conn, error) { return net.Dial("unix", path) }
	}
	for k, v := range cfg.Header {
		t.header = append(t.header, [2]string{k, v})
	}
	return t, nil
}

// SetDial replaces how connections are made, e.g. to reach an in-memory
// listener in tests.
func (t *FastHTTP) SetDial(dial func(addr string) (net.Conn, error)) { t.hc.Dial = dial }

var strApplicationJSON = []byte("application/json")

// RoundTrip posts req and appends a 200 answer's body to resp; 204 appends
// nothing; any other status is an *HTTPError.
func (t *FastHTTP) RoundTrip(ctx context.Context, req []byte, resp *bytebufferpool.ByteBuffer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline := time.Now().Add(t.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	r, w := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	r.SetRequestURI(t.uri)
	r.Header.SetMethod(fasthttp.MethodPost)
	r.Header.SetContentTypeBytes(strApplicationJSON)
	for _, h := range t.header {
		r.Header.Set(h[0], h[1])
	}
	if ctx.Done() == nil {
		r.SetBodyRaw(req) // no copy: req outlives the call
		err := t.hc.DoDeadline(r, w, deadline)
		return finish(r, w, resp, err)
	}
	// The request may outlive this call if ctx is cancelled: it gets its
	// own copy of the body, and the goroutine releases what it holds.
	r.SetBody(req)
	done := make(chan error, 1)
	go func() { done <- t.hc.DoDeadline(r, w, deadline) }()
	select {
	case err := <-done:
		return finish(r, w, resp, err)
	case <-ctx.Done():
		go func() {
			<-done
			fasthttp.ReleaseRequest(r)
			fasthttp.ReleaseResponse(w)
		}()
		return ctx.Err()
	}
}

func finish(r *fasthttp.Request, w *fasthttp.Response, resp *bytebufferpool.ByteBuffer, err error) error {
	if err == nil {
		err = appendAnswer(resp, w.StatusCode(), w.Body())
	}
	fasthttp.ReleaseRequest(r)
	fasthttp.ReleaseResponse(w)
	return err
}

// HTTPError is an answer with an HTTP status other than 200 and 204.
type HTTPError struct {
	StatusCode int
	// Body is the start of the answer's body, at most 512 bytes.
	Body string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("HTTP status %d: %s", e.StatusCode, e.Body)
}

// appendAnswer appends the body of a 200 answer, nothing for a 204, and
// returns an *HTTPError otherwise.
func appendAnswer(resp *bytebufferpool.ByteBuffer, status int, body []byte) error {
	switch status {
	case fasthttp.StatusOK:
		resp.B = append(resp.B, body...)
		return nil
	case fasthttp.StatusNoContent:
		return nil
	}
	return &HTTPError{StatusCode: status, Body: string(body[:min(len(body), 512)])}
}
