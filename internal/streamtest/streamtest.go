// Package streamtest is the client side of the stream framings for tests:
// it writes requests framed as a client frames them (WebSocket frames
// masked) and reads the server's frames back, over any net.Conn.
package streamtest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/fasthttp/websocket"
)

// Client speaks one framing ("line", "header" or "websocket") on Conn.
type Client struct {
	Conn    net.Conn
	framing string
	r       *bufio.Reader
}

// New returns a client of conn with framing; for "websocket" the
// handshake must be done (see DialWebSocket).
func New(conn net.Conn, framing string) *Client {
	return &Client{Conn: conn, framing: framing, r: bufio.NewReaderSize(conn, 64<<10)}
}

// Dial connects to addr on network (tcp, unix) with framing.
func Dial(network, addr, framing string) (*Client, error) {
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return New(c, framing), nil
}

// DialWebSocket opens a WebSocket to url (ws://host/path) with the
// fasthttp/websocket client and speaks raw frames on its connection.
func DialWebSocket(url string, header map[string]string) (*Client, error) {
	h := make(map[string][]string, len(header))
	for k, v := range header {
		h[k] = []string{v}
	}
	ws, resp, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, err
	}
	return New(ws.NetConn(), "websocket"), nil
}

// Frame returns msg framed as a client sends it.
func (c *Client) Frame(msg string) []byte {
	switch c.framing {
	case "header":
		return []byte("Content-Length: " + strconv.Itoa(len(msg)) + "\r\n\r\n" + msg)
	case "websocket":
		return MaskedFrame(0x1, true, []byte(msg))
	}
	return []byte(msg + "\n")
}

// Send writes msg, framed.
func (c *Client) Send(msg string) error {
	_, err := c.Conn.Write(c.Frame(msg))
	return err
}

// MaskedFrame returns a client frame with opcode op (masked, as clients
// must send them).
func MaskedFrame(op byte, fin bool, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var f []byte
	switch n := len(payload); {
	case n <= 125:
		f = append(f, b0, 0x80|byte(n))
	case n <= 0xFFFF:
		f = append(f, b0, 0x80|126, byte(n>>8), byte(n))
	default:
		f = append(f, b0, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	f = append(f, key[:]...)
	for i, b := range payload {
		f = append(f, b^key[i%4])
	}
	return f
}

// CloseError is a WebSocket close frame the server sent.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string { return fmt.Sprintf("websocket closed: %d %s", e.Code, e.Reason) }

// Recv reads the next message the server sent (a WebSocket close frame is
// a *CloseError; pings are answered, pongs skipped), waiting at most d.
func (c *Client) Recv(d time.Duration) (string, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(d))
	switch c.framing {
	case "header":
		n := -1
		for {
			line, err := c.r.ReadString('\n')
			if err != nil {
				return "", err
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if n < 0 {
			return "", fmt.Errorf("no Content-Length")
		}
		b := make([]byte, n)
		_, err := io.ReadFull(c.r, b)
		return string(b), err
	case "websocket":
		for {
			op, payload, err := c.readFrame()
			if err != nil {
				return "", err
			}
			switch op {
			case 0x1, 0x2:
				return string(payload), nil
			case 0x8:
				ce := &CloseError{Code: 1005}
				if len(payload) >= 2 {
					ce.Code, ce.Reason = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
				}
				return "", ce
			case 0x9:
				_, _ = c.Conn.Write(MaskedFrame(0xA, true, payload))
			}
		}
	}
	line, err := c.r.ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}

// readFrame reads one unmasked server frame.
func (c *Client) readFrame() (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x80 == 0 || h[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("server frame fragmented or masked: % x", h)
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.r, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.r, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	payload := make([]byte, n)
	_, err := io.ReadFull(c.r, payload)
	return h[0] & 0x0F, payload, err
}

// Call sends msg and returns the next message received.
func (c *Client) Call(msg string) (string, error) {
	if err := c.Send(msg); err != nil {
		return "", err
	}
	return c.Recv(5 * time.Second)
}

// Close closes the connection.
func (c *Client) Close() error { return c.Conn.Close() }
