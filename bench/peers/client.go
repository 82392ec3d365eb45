package peers

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// A Client sends requests to one server over one connection at a time
// and returns the answers: an HTTP POST with fasthttp's client, which
// allocates nothing per request, or for a stream server one JSON value
// written and one line read. The same client measures every server.
type Client struct {
	hc   *fasthttp.HostClient
	req  *fasthttp.Request
	resp *fasthttp.Response

	dial func() (net.Conn, error)
	conn net.Conn
	r    *bufio.Reader
}

// NewClient returns a client of s whose connections come from dial.
func NewClient(s Server, dial func() (net.Conn, error)) *Client {
	if s.Stream {
		return &Client{dial: dial}
	}
	c := &Client{
		hc: &fasthttp.HostClient{Addr: "127.0.0.1", MaxConns: 1, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
			Dial: func(string) (net.Conn, error) { return dial() }},
		req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse(),
	}
	c.req.SetRequestURI("http://127.0.0.1/json-rpc")
	c.req.Header.SetMethod(fasthttp.MethodPost)
	c.req.Header.SetContentType("application/json")
	return c
}

// RoundTrip sends body and returns the answer, valid until the next call.
func (c *Client) RoundTrip(body []byte) ([]byte, error) {
	if c.hc != nil {
		c.req.SetBodyRaw(body)
		if err := c.hc.Do(c.req, c.resp); err != nil {
			return nil, err
		}
		if c.resp.StatusCode() != fasthttp.StatusOK {
			return nil, fmt.Errorf("peers: HTTP %d: %.200s", c.resp.StatusCode(), c.resp.Body())
		}
		return c.resp.Body(), nil
	}
	if c.conn == nil {
		conn, err := c.dial()
		if err != nil {
			return nil, err
		}
		c.conn, c.r = conn, bufio.NewReaderSize(conn, 64<<10)
	}
	if _, err := c.conn.Write(body); err != nil {
		return nil, err
	}
	// A stream server answers with one JSON value and a newline.
	line, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errors.New("peers: answer longer than 64 KiB")
	}
	return line, err
}

// Close closes the client's connections.
func (c *Client) Close() {
	if c.hc != nil {
		c.hc.CloseIdleConnections()
		fasthttp.ReleaseRequest(c.req)
		fasthttp.ReleaseResponse(c.resp)
	}
	if c.conn != nil {
		c.conn.Close()
	}
}
