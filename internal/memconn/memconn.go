// Package memconn is a net.Conn over two in-memory buffers, for driving a
// fasthttp.Server with ServeConn in tests and benchmarks without sockets:
// the server reads requests from In and writes answers to Out.
package memconn

import (
	"bytes"
	"net"
	"strconv"
	"time"
)

// Conn is a net.Conn whose reads drain In and whose writes append to Out.
// Reading an empty In returns io.EOF, which ends ServeConn. It is not safe
// for concurrent use.
type Conn struct {
	In, Out bytes.Buffer
}

var addr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 12345}

func (c *Conn) Read(b []byte) (int, error)       { return c.In.Read(b) }
func (c *Conn) Write(b []byte) (int, error)      { return c.Out.Write(b) }
func (c *Conn) Close() error                     { return nil }
func (c *Conn) LocalAddr() net.Addr              { return addr }
func (c *Conn) RemoteAddr() net.Addr             { return addr }
func (c *Conn) SetDeadline(time.Time) error      { return nil }
func (c *Conn) SetReadDeadline(time.Time) error  { return nil }
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }

// PostRequest returns an HTTP/1.1 keep-alive POST of body to path, as a
// client sends it.
func PostRequest(path, body string) []byte {
	var b bytes.Buffer
	b.WriteString("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ")
	b.WriteString(strconv.Itoa(len(body)))
	b.WriteString("\r\n\r\n")
	b.WriteString(body)
	return b.Bytes()
}
