package client

import (
	"bytes"
	"context"
	"io"
	"net/http"

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
}

// NewHTTP returns a transport posting to url with client
// (http.DefaultClient when nil) and the given headers on every request.
func NewHTTP(url string, client *http.Client, header http.Header) *HTTP {
	if client == nil {
		client = http.DefaultClient
	}
	return &HTTP{url: url, client: client, header: header.Clone()}
}

// RoundTrip posts req and appends a 200 answer's body to resp; 204 appends
// nothing; any other status is an *HTTPError. ctx cancels the request.
func (t *HTTP) RoundTrip(ctx context.Context, req []byte, resp *bytebufferpool.ByteBuffer) error {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(req))
	if err != nil {
		return err
	}
	for k, v := range t.header {
		r.Header[k] = v
	}
	r.Header.Set("Content-Type", "application/json")
	w, err := t.client.Do(r)
	if err != nil {
		return err
	}
	defer w.Body.Close()
	body := bytebufferpool.Get()
	defer bytebufferpool.Put(body)
	if _, err := body.ReadFrom(io.LimitReader(w.Body, MaxAnswerSize+1)); err != nil {
		return err
	}
	if len(body.B) > MaxAnswerSize {
		return &HTTPError{StatusCode: w.StatusCode, Body: "answer larger than MaxAnswerSize"}
	}
	return appendAnswer(resp, w.StatusCode, body.B)
}
