package stream

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/jetrpc/jetrpc/codec"
)

// Framing is how messages are cut out of a byte stream and answers framed
// into it: Line, Header or WebSocket.
type Framing struct {
	name     string
	newFrame func() framer
}

// String returns the framing's name: line, header or websocket.
func (f Framing) String() string {
	if f.name == "" {
		return Line.name
	}
	return f.name
}

var (
	// Line is newline-delimited JSON: one message per line (a trailing
	// \r is dropped), blank lines ignored; answers end with \n. A message
	// must not contain a raw newline (compact JSON never does). It is
	// creachadair/jrpc2's channel.Line and most tools' "JSON lines".
	Line = Framing{"line", func() framer { return lineFramer{} }}
	// Header is the Language Server Protocol's framing: a header block,
	// "Content-Length: N\r\n" among other headers (ignored) ended by
	// "\r\n", then N bytes. Answers carry Content-Length only.
	Header = Framing{"header", func() framer { return headerFramer{} }}
	// WebSocket is the server side of RFC 6455 on a connection whose
	// handshake is done: one JSON-RPC message per text or binary message
	// (fragments reassembled), each answer in its own text frame, pings
	// answered, close frames echoed. Over MaxMessageSize the connection
	// closes with 1009, on a protocol error with 1002.
	WebSocket = Framing{"websocket", func() framer { return &wsFramer{} }}
)

// ParseFraming returns the framing named name: "line", "header" or
// "websocket".
func ParseFraming(name string) (Framing, error) {
	for _, f := range []Framing{Line, Header, WebSocket} {
		if f.name == name {
			return f, nil
		}
	}
	return Framing{}, fmt.Errorf("unknown framing %q (line, header or websocket)", name)
}

func (f Framing) framer() framer {
	if f.newFrame == nil {
		return lineFramer{}
	}
	return f.newFrame()
}

// framer is one connection's framing state.
type framer interface {
	// next looks for a whole frame at the start of buf: it returns n = 0
	// when buf holds only part of one (read more), else the n bytes it
	// took and what they held: a message (msg), a control frame (ctl and
	// its payload in msg), or nothing (a blank line). A frame error ends
	// the connection, after its answer.
	next(buf []byte, max int) (n int, msg []byte, ctl control, err *frameError)
	// appendFrame appends msg, framed, to dst.
	appendFrame(dst, msg []byte) []byte
	// appendClose appends what ends the connection (a WebSocket close
	// frame), nothing for plain streams.
	appendClose(dst []byte, code int, reason string) []byte
	// overhead bounds the bytes a frame adds around a message.
	overhead() int
}

// control is a WebSocket control frame the connection must act on.
type control uint8

const (
	noControl  control = iota
	ping               // answer a pong with the same payload
	closeFrame         // echo the close and end the connection
)

// frameError is a framing error: the stream cannot be followed past it.
// answer is what a plain stream answers before closing (nil for none);
// code is the WebSocket close code.
type frameError struct {
	code   int
	reason string
	answer *codec.Error
}

func (e *frameError) Error() string { return e.reason }

// tooLarge is the error of a message over max bytes.
func tooLarge(size, max int) *frameError {
	reason := fmt.Sprintf("message of %d bytes is over the limit of %d", size, max)
	if size < 0 {
		reason = fmt.Sprintf("message is over the limit of %d bytes", max)
	}
	return &frameError{code: closeMessageTooBig, reason: reason, answer: codec.ErrInvalidRequest.WithData(reason)}
}

type lineFramer struct{}

func (lineFramer) next(buf []byte, max int) (int, []byte, control, *frameError) {
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		if len(buf) > max {
			return 0, nil, 0, tooLarge(-1, max)
		}
		return 0, nil, 0, nil
	}
	line := buf[:i]
	if len(line) > max {
		return 0, nil, 0, tooLarge(len(line), max)
	}
	for n := len(line); n > 0 && (line[n-1] == '\r' || line[n-1] == ' ' || line[n-1] == '\t'); n-- {
		line = line[:n-1] // bytes.TrimRight, without its cost per line
	}
	if len(line) == 0 {
		return i + 1, nil, 0, nil
	}
	return i + 1, line, 0, nil
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func (lineFramer) appendFrame(dst, msg []byte) []byte {
	return append(append(dst, msg...), '\n')
}

func (lineFramer) appendClose(dst []byte, _ int, _ string) []byte { return dst }
func (lineFramer) overhead() int                                  { return 1 }

// maxHeaderBlock bounds an LSP header block.
const maxHeaderBlock = 4 << 10

type headerFramer struct{}

var contentLength = []byte("content-length")

func (headerFramer) next(buf []byte, max int) (int, []byte, control, *frameError) {
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		if len(buf) > maxHeaderBlock {
			return 0, nil, 0, badHeader("header block over 4096 bytes without an empty line")
		}
		return 0, nil, 0, nil
	}
	size := -1
	for block := buf[:end]; len(block) > 0; {
		line := block
		if i := bytes.Index(block, []byte("\r\n")); i >= 0 {
			line, block = block[:i], block[i+2:]
		} else {
			block = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return 0, nil, 0, badHeader(fmt.Sprintf("header line %q has no colon", truncate(line)))
		}
		if !asciiEqualFold(bytes.TrimSpace(line[:colon]), contentLength) {
			continue // Content-Type and the like
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(line[colon+1:])))
		if err != nil || n < 0 {
			return 0, nil, 0, badHeader(fmt.Sprintf("Content-Length %q is not a length", truncate(line[colon+1:])))
		}
		size = n
	}
	if size < 0 {
		return 0, nil, 0, badHeader("no Content-Length header")
	}
	if size > max {
		return 0, nil, 0, tooLarge(size, max)
	}
	start := end + 4
	if len(buf)-start < size {
		return 0, nil, 0, nil
	}
	msg := buf[start : start+size]
	if isBlank(msg) {
		return start + size, nil, 0, nil
	}
	return start + size, msg, 0, nil
}

func badHeader(reason string) *frameError {
	return &frameError{code: closeProtocolError, reason: reason, answer: codec.ErrParse.WithData("bad header: " + reason)}
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// asciiEqualFold reports whether a equals the lower-case b, ignoring ASCII
// case, without allocating.
func asciiEqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i, c := range a {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}

func (headerFramer) appendFrame(dst, msg []byte) []byte {
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(msg)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, msg...)
}

func (headerFramer) appendClose(dst []byte, _ int, _ string) []byte { return dst }
func (headerFramer) overhead() int                                  { return 40 }
