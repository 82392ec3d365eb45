package client

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"
)

// DefaultTimeout bounds one round trip when neither WithTimeout nor the
// call's context sets a shorter one, so that a dead server cannot hang a
// caller forever.
const DefaultTimeout = 30 * time.Second

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
	trace   *tracer
}

// NewFastHTTP returns a transport posting to rawURL (http or https), with
// the options WithHeader, WithTimeout, WithTLSConfig, WithUnixSocket,
// WithMaxConns, WithDial and WithTrace.
func NewFastHTTP(rawURL string, opts ...Option) (*FastHTTP, error) {
	u, err := parseHTTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	return newFastHTTP(u, newSettings(opts)), nil
}

func newFastHTTP(u *url.URL, s *settings) *FastHTTP {
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	t := &FastHTTP{
		hc: &fasthttp.HostClient{
			Addr:      addr,
			IsTLS:     u.Scheme == "https",
			TLSConfig: s.tlsConfig,
			MaxConns:  s.maxConns,
			Name:      "jetrpc",
		},
		uri:     u.String(),
		timeout: s.timeout,
		header:  s.header,
		trace:   s.trace,
	}
	if s.unixSocket != "" {
		path := s.unixSocket
		t.hc.Dial = func(string) (net.Conn, error) { return net.Dial("unix", path) }
	}
	if s.dial != nil {
		t.hc.Dial = s.dial
	}
	return t
}

var strApplicationJSON = []byte("application/json")

// RoundTrip posts req and appends a 200 answer's body to dst, returning
// the extended dst; 204 appends nothing; any other status is an
// *HTTPError.
func (t *FastHTTP) RoundTrip(ctx context.Context, dst, req []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return dst, err
	}
	t.trace.request(req)
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
		return t.finish(r, w, dst, err)
	}
	// The request may outlive this call if ctx is cancelled: it gets its
	// own copy of the body, and the goroutine releases what it holds.
	r.SetBody(req)
	done := make(chan error, 1)
	go func() { done <- t.hc.DoDeadline(r, w, deadline) }()
	select {
	case err := <-done:
		return t.finish(r, w, dst, err)
	case <-ctx.Done():
		go func() {
			<-done
			fasthttp.ReleaseRequest(r)
			fasthttp.ReleaseResponse(w)
		}()
		t.trace.answer(0, nil, ctx.Err())
		return dst, ctx.Err()
	}
}

// CloseIdleConnections closes the pooled connections that are idle.
func (t *FastHTTP) CloseIdleConnections() { t.hc.CloseIdleConnections() }

func (t *FastHTTP) finish(r *fasthttp.Request, w *fasthttp.Response, dst []byte, err error) ([]byte, error) {
	status := w.StatusCode()
	if err == nil {
		dst, err = appendAnswer(dst, status, w.Body())
	}
	t.trace.answer(status, w.Body(), err)
	fasthttp.ReleaseRequest(r)
	fasthttp.ReleaseResponse(w)
	return dst, err
}

// HTTPError is an answer with an HTTP status other than 200 and 204: the
// status of a failed round trip, reachable with errors.As.
type HTTPError struct {
	StatusCode int
	// Body is the start of the answer's body, at most 512 bytes.
	Body string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("HTTP status %d: %s", e.StatusCode, e.Body)
}

// appendAnswer appends the body of a 200 answer to dst, nothing for a 204,
// and returns an *HTTPError otherwise.
func appendAnswer(dst []byte, status int, body []byte) ([]byte, error) {
	switch status {
	case fasthttp.StatusOK:
		return append(dst, body...), nil
	case fasthttp.StatusNoContent:
		return dst, nil
	}
	return dst, &HTTPError{StatusCode: status, Body: string(body[:min(len(body), 512)])}
}
