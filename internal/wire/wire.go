// Package wire cuts JSON-RPC messages out of a byte stream and frames them
// into one, for both ends of a persistent connection: newline-delimited
// JSON, LSP-style Content-Length headers, and WebSocket frames (RFC 6455,
// either side). It is pure: buffers in, messages and frames out, nothing
// read or written, nothing allocated on the message path.
package wire

import (
	"bytes"
	"fmt"
	"strconv"
)

// Kind is what made a stream impossible to follow.
type Kind uint8

const (
	// TooLarge: a message over the limit.
	TooLarge Kind = iota + 1
	// BadHeader: an LSP header block that cannot be read.
	BadHeader
	// Protocol: a WebSocket protocol error.
	Protocol
)

// Error is a framing error: the stream cannot be followed past it.
type Error struct {
	Kind   Kind
	Reason string
}

func (e *Error) Error() string { return e.Reason }

// tooLarge is the error of a message of size bytes (-1: unknown) over max.
func tooLarge(size, max int) *Error {
	if size < 0 {
		return &Error{TooLarge, fmt.Sprintf("message is over the limit of %d bytes", max)}
	}
	return &Error{TooLarge, fmt.Sprintf("message of %d bytes is over the limit of %d", size, max)}
}

// Line looks for a whole line at the start of buf: n = 0 when there is
// none yet (read more), else the n bytes it took and the message, nil for
// a blank line. A trailing \r (and spaces) is dropped.
func Line(buf []byte, max int) (n int, msg []byte, err *Error) {
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		if len(buf) > max {
			return 0, nil, tooLarge(-1, max)
		}
		return 0, nil, nil
	}
	line := buf[:i]
	if len(line) > max {
		return 0, nil, tooLarge(len(line), max)
	}
	for n := len(line); n > 0 && (line[n-1] == '\r' || line[n-1] == ' ' || line[n-1] == '\t'); n-- {
		line = line[:n-1] // bytes.TrimRight, without its cost per line
	}
	if len(line) == 0 {
		return i + 1, nil, nil
	}
	return i + 1, line, nil
}

// AppendLine appends msg as one line.
func AppendLine(dst, msg []byte) []byte { return append(append(dst, msg...), '\n') }

// MaxHeaderBlock bounds an LSP header block.
const MaxHeaderBlock = 4 << 10

var contentLength = []byte("content-length")

// Header looks for a whole LSP-framed message at the start of buf (a
// header block with Content-Length, other headers ignored, then the
// body), as Line does.
func Header(buf []byte, max int) (n int, msg []byte, err *Error) {
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		if len(buf) > MaxHeaderBlock {
			return 0, nil, badHeader("header block over 4096 bytes without an empty line")
		}
		return 0, nil, nil
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
			return 0, nil, badHeader(fmt.Sprintf("header line %q has no colon", truncate(line)))
		}
		if !asciiEqualFold(bytes.TrimSpace(line[:colon]), contentLength) {
			continue // Content-Type and the like
		}
		v, perr := strconv.Atoi(string(bytes.TrimSpace(line[colon+1:])))
		if perr != nil || v < 0 {
			return 0, nil, badHeader(fmt.Sprintf("Content-Length %q is not a length", truncate(line[colon+1:])))
		}
		size = v
	}
	if size < 0 {
		return 0, nil, badHeader("no Content-Length header")
	}
	if size > max {
		return 0, nil, tooLarge(size, max)
	}
	start := end + 4
	if len(buf)-start < size {
		return 0, nil, nil
	}
	msg = buf[start : start+size]
	if isBlank(msg) {
		return start + size, nil, nil
	}
	return start + size, msg, nil
}

// AppendHeader appends msg with its Content-Length header.
func AppendHeader(dst, msg []byte) []byte {
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(msg)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, msg...)
}

func badHeader(reason string) *Error { return &Error{BadHeader, reason} }

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
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
