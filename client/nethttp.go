package client

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/valyala/bytebufferpool"
)

// MaxAnswerSize bounds the answer body the net/http transport reads, so
// that a hostile server cannot make a client buffer without end.
const MaxAnswerSize = 64 << 20

// HTTP is a Transport over net/http, for proxies, http.RoundTripper
// middleware and anything else built on http.Client. It allocates what
// net/http allocates per request. It is safe for concurrent use.
type HTTP struct {
	url    string
	client *http.Client
	header http.Header
	trace  *tracer
}

// NewHTTP returns a transport posting to rawURL (http or https) with the
// options WithHTTPClient (http.DefaultClient when not given; with
// WithTimeout, a copy of it with that timeout), WithHeader, WithTimeout,
// WithUnixSocket and WithTrace.
func NewHTTP(rawURL string, opts ...Option) (*HTTP, error) {
	u, err := parseHTTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	return newHTTP(u, newSettings(opts)), nil
}

func newHTTP(u *url.URL, s *settings) *HTTP {
	c := s.httpClient
	if c == nil {
		c = &http.Client{Timeout: s.timeout}
		if s.unixSocket != "" || s.tlsConfig != nil {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.TLSClientConfig = s.tlsConfig
			if path := s.unixSocket; path != "" {
				tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, "unix", path)
				}
			}
			c.Transport = tr
		}
	}
	h := http.Header{}
	for _, kv := range s.header {
		h.Add(kv[0], kv[1])
	}
	return &HTTP{url: u.String(), client: c, header: h, trace: s.trace}
}

// RoundTrip posts req and appends a 200 answer's body to dst, returning
// the extended dst; 204 appends nothing; any other status is an
// *HTTPError. ctx cancels the request.
func (t *HTTP) RoundTrip(ctx context.Context, dst, req []byte) ([]byte, error) {
	t.trace.request(req)
	dst, status, body, err := t.roundTrip(ctx, dst, req)
	t.trace.answer(status, body.B, err)
	bytebufferpool.Put(body)
	return dst, err
}

func (t *HTTP) roundTrip(ctx context.Context, dst, req []byte) ([]byte, int, *bytebufferpool.ByteBuffer, error) {
	body := bytebufferpool.Get()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(req))
	if err != nil {
		return dst, 0, body, err
	}
	for k, v := range t.header {
		r.Header[k] = v
	}
	r.Header.Set("Content-Type", "application/json")
	w, err := t.client.Do(r)
	if err != nil {
		return dst, 0, body, err
	}
	defer w.Body.Close()
	if _, err := body.ReadFrom(io.LimitReader(w.Body, MaxAnswerSize+1)); err != nil {
		return dst, w.StatusCode, body, err
	}
	if len(body.B) > MaxAnswerSize {
		return dst, w.StatusCode, body, &HTTPError{StatusCode: w.StatusCode, Body: "answer larger than MaxAnswerSize"}
	}
	dst, err = appendAnswer(dst, w.StatusCode, body.B)
	return dst, w.StatusCode, body, err
}
