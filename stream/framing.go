package stream

import (
	"fmt"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/internal/wire"
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
	WebSocket = Framing{"websocket", newWSFramer}
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
	next(buf []byte, max int) (n int, msg []byte, ctl wire.Control, err *frameError)
	// appendFrame appends msg, framed, to dst.
	appendFrame(dst, msg []byte) []byte
	// appendClose appends what ends the connection (a WebSocket close
	// frame), nothing for plain streams.
	appendClose(dst []byte, code int, reason string) []byte
	// overhead bounds the bytes a frame adds around a message.
	overhead() int
}

// frameError is a framing error: the stream cannot be followed past it.
// answer is what a plain stream answers before closing (nil for none);
// code is the WebSocket close code.
type frameError struct {
	code   int
	reason string
	answer *codec.Error
}

func (e *frameError) Error() string { return e.reason }

// frameErrorOf gives a wire error its answer and close code.
func frameErrorOf(err *wire.Error) *frameError {
	switch err.Kind {
	case wire.TooLarge:
		return &frameError{code: wire.CloseMessageTooBig, reason: err.Reason, answer: codec.ErrInvalidRequest.WithData(err.Reason)}
	case wire.BadHeader:
		return &frameError{code: wire.CloseProtocolError, reason: err.Reason, answer: codec.ErrParse.WithData("bad header: " + err.Reason)}
	}
	return &frameError{code: wire.CloseProtocolError, reason: err.Reason}
}

type lineFramer struct{}

func (lineFramer) next(buf []byte, max int) (int, []byte, wire.Control, *frameError) {
	n, msg, err := wire.Line(buf, max)
	if err != nil {
		return 0, nil, 0, frameErrorOf(err)
	}
	return n, msg, 0, nil
}

func (lineFramer) appendFrame(dst, msg []byte) []byte             { return wire.AppendLine(dst, msg) }
func (lineFramer) appendClose(dst []byte, _ int, _ string) []byte { return dst }
func (lineFramer) overhead() int                                  { return 1 }

type headerFramer struct{}

func (headerFramer) next(buf []byte, max int) (int, []byte, wire.Control, *frameError) {
	n, msg, err := wire.Header(buf, max)
	if err != nil {
		return 0, nil, 0, frameErrorOf(err)
	}
	return n, msg, 0, nil
}

func (headerFramer) appendFrame(dst, msg []byte) []byte             { return wire.AppendHeader(dst, msg) }
func (headerFramer) appendClose(dst []byte, _ int, _ string) []byte { return dst }
func (headerFramer) overhead() int                                  { return 40 }

// wsFramer is the server's end of a WebSocket connection.
type wsFramer struct{ r wire.WebSocket }

func newWSFramer() framer { return &wsFramer{r: wire.WebSocket{FromClient: true}} }

func (f *wsFramer) next(buf []byte, max int) (int, []byte, wire.Control, *frameError) {
	n, msg, ctl, err := f.r.Next(buf, max)
	if err != nil {
		return 0, nil, 0, frameErrorOf(err)
	}
	return n, msg, ctl, nil
}

func (*wsFramer) appendFrame(dst, msg []byte) []byte {
	return wire.AppendFrame(dst, wire.OpText, msg, nil)
}

func (*wsFramer) appendClose(dst []byte, code int, reason string) []byte {
	return wire.AppendClose(dst, code, reason, nil)
}

func (*wsFramer) overhead() int { return 10 }

// appendPong appends the pong answering a ping with payload.
func appendPong(dst, payload []byte) []byte { return wire.AppendFrame(dst, wire.OpPong, payload, nil) }

// appendPing appends a keep-alive ping.
func appendPing(dst []byte) []byte { return wire.AppendFrame(dst, wire.OpPing, nil, nil) }
