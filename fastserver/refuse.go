package fastserver

import (
	"bytes"
	"errors"
	"net"

	"github.com/jetrpc/jetrpc/internal/httpsem"
	"github.com/valyala/fasthttp"
)

// refuse answers ctx with status and a one-line text body, with the
// headers every refusal carries: CORS when it is on (a browser shows a
// refusal without it as "Failed to fetch"), Allow for 405, Retry-After for
// 503.
func refuse(ctx *fasthttp.RequestCtx, cfg Config, status int) {
	refuseWith(ctx, cfg, status, httpsem.RefusalText(status))
}

func refuseWith(ctx *fasthttp.RequestCtx, cfg Config, status int, text string) {
	ctx.Error(text, status) // resets the headers: the ones below come after
	h := &ctx.Response.Header
	switch status {
	case fasthttp.StatusMethodNotAllowed:
		h.Set(fasthttp.HeaderAllow, httpsem.AllowedMethods)
	case fasthttp.StatusServiceUnavailable:
		h.Set(fasthttp.HeaderRetryAfter, "1")
	}
	if cfg.CORSOrigin != "" {
		h.Set(fasthttp.HeaderAccessControlAllowOrigin, cfg.CORSOrigin)
	}
}

// statusOfReadError is the status for a request fasthttp could not read.
func statusOfReadError(err error, c *conn) int {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return fasthttp.StatusRequestEntityTooLarge
	case errors.As(err, &small):
		// The request line and headers must fit the read buffer; whether
		// the request line alone did is known from the connection.
		if c != nil && !c.lineDone {
			return fasthttp.StatusRequestURITooLong
		}
		return fasthttp.StatusRequestHeaderFieldsTooLarge
	case errors.As(err, &netErr) && netErr.Timeout():
		return fasthttp.StatusRequestTimeout
	}
	return fasthttp.StatusBadRequest
}

// handleRequestError answers a request fasthttp could not read, and makes
// its connection linger: the client may still be sending.
func (s *Server) handleRequestError(ctx *fasthttp.RequestCtx, err error) {
	h := &ctx.Request.Header
	s.releaseBody(h)
	c := connOf(ctx)
	c.lingerOnClose()
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge) && s.bufferedBody(h.ContentLength()):
		// A body within MaxBodySize is "too large" only when
		// headerReceived found no room for it.
		refuse(ctx, s.cfg, fasthttp.StatusServiceUnavailable)
	case errors.Is(err, errBareLF):
		refuseWith(ctx, s.cfg, fasthttp.StatusBadRequest, "bad request: the header block ends with a bare LF; lines end with CRLF")
	default:
		refuse(ctx, s.cfg, statusOfReadError(err, c))
	}
	s.observeRefusal(ctx)
}

// observeRefusal tells the observer of a request refused before it was
// read.
func (s *Server) observeRefusal(ctx *fasthttp.RequestCtx) {
	if o := s.cfg.Observer; o != nil {
		o.ObserveHTTP(ctx.Response.StatusCode(), max(ctx.Request.Header.ContentLength(), 0), len(ctx.Response.Body()))
	}
}

// bufferedBody reports whether a body of the declared length n is counted
// in MaxBufferedBytes.
func (s *Server) bufferedBody(n int) bool { return n > countedBytes && n <= s.cfg.MaxBodySize }

// refusedBody is the body limit that makes fasthttp refuse a body without
// reading it (see headerReceived).
const refusedBody = 1

// headerReceived counts a large body in MaxBufferedBytes before fasthttp
// reads it (fasthttp allocates the whole declared length at once), or, when
// there is no room, makes fasthttp refuse it unread; handleRequestError
// then answers 503. Bodies with Expect: 100-continue are counted by expect,
// which can refuse them before the client sends them.
func (s *Server) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	n := h.ContentLength()
	if !s.bufferedBody(n) || isExpectContinue(h) {
		return fasthttp.RequestConfig{}
	}
	if !s.holdBody(h, n) {
		return fasthttp.RequestConfig{MaxRequestBodySize: refusedBody}
	}
	return fasthttp.RequestConfig{}
}

var str100Continue = []byte("100-continue")

func isExpectContinue(h *fasthttp.RequestHeader) bool {
	return bytes.Equal(h.Peek(fasthttp.HeaderExpect), str100Continue)
}

// expect decides on a request with Expect: 100-continue before its body
// is sent: a request that would be refused is refused now, without
// 100 Continue (RFC 9110 §10.1.1), so that the client need not send a
// body only to have it discarded. fasthttp then closes the connection,
// which lingers in case the client sends the body anyway.
func (s *Server) expect(ctx *fasthttp.RequestCtx) int {
	status := s.check(ctx)
	switch {
	case status != 0:
	case ctx.Request.Header.ContentLength() > s.cfg.MaxBodySize:
		status = fasthttp.StatusRequestEntityTooLarge
	case s.bufferedBody(ctx.Request.Header.ContentLength()) && !s.holdBody(&ctx.Request.Header, ctx.Request.Header.ContentLength()):
		status = fasthttp.StatusServiceUnavailable
	default:
		return fasthttp.StatusContinue
	}
	// fasthttp writes this response as it is (its documentation asks to
	// leave it alone; v1.74.0 only sets the status and Connection: close).
	refuse(ctx, s.cfg, status)
	s.observeRefusal(ctx)
	connOf(ctx).lingerOnClose()
	return status
}
