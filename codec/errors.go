package codec

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Code is a JSON-RPC 2.0 error code. The specification reserves -32768 to
// -32000; codes outside that range are free for applications.
type Code int

// The error codes the JSON-RPC 2.0 specification defines (section 5.1).
const (
	CodeParseError     Code = -32700 // invalid JSON was received
	CodeInvalidRequest Code = -32600 // the JSON sent is not a valid Request object
	CodeMethodNotFound Code = -32601 // the method does not exist or is not available
	CodeInvalidParams  Code = -32602 // invalid method parameter(s)
	CodeInternalError  Code = -32603 // internal JSON-RPC error

	// CodeServerErrorMin and CodeServerErrorMax bound the range the
	// specification reserves for implementation-defined server errors.
	CodeServerErrorMin Code = -32099
	CodeServerErrorMax Code = -32000
)

// IsServerError reports whether c lies in the implementation-defined
// server-error range, -32099 to -32000.
func (c Code) IsServerError() bool { return c >= CodeServerErrorMin && c <= CodeServerErrorMax }

// IsReserved reports whether c lies in the range the specification reserves
// for itself, -32768 to -32000.
func (c Code) IsReserved() bool { return c >= -32768 && c <= -32000 }

// String returns the specification's message for the standard codes,
// "Server error" for the server range and "error N" otherwise.
func (c Code) String() string {
	switch c {
	case CodeParseError:
		return "Parse error"
	case CodeInvalidRequest:
		return "Invalid Request"
	case CodeMethodNotFound:
		return "Method not found"
	case CodeInvalidParams:
		return "Invalid params"
	case CodeInternalError:
		return "Internal error"
	}
	if c.IsServerError() {
		return "Server error"
	}
	return "error " + strconv.Itoa(int(c))
}

// Error is a JSON-RPC error object. A handler returns one (or an error that
// wraps one) to choose the code, message and data of its answer.
//
// Error values are immutable once shared: the prebuilt ones below are used
// by every goroutine. It is safe for concurrent use as long as nobody
// modifies it.
type Error struct {
	Code    Code
	Message string
	// Data is raw JSON carried in the error's "data" member; empty means
	// no data member. It must be valid JSON; the engine checks it and
	// drops it otherwise.
	Data json.RawMessage
}

// Prebuilt errors for the standard codes, so that answering with one of
// them allocates nothing. Do not modify them; use NewError or WithData to
// get a modified copy.
var (
	ErrParse          = &Error{Code: CodeParseError, Message: "Parse error"}
	ErrInvalidRequest = &Error{Code: CodeInvalidRequest, Message: "Invalid Request"}
	ErrMethodNotFound = &Error{Code: CodeMethodNotFound, Message: "Method not found"}
	ErrInvalidParams  = &Error{Code: CodeInvalidParams, Message: "Invalid params"}
	ErrInternal       = &Error{Code: CodeInternalError, Message: "Internal error"}
)

// NewError returns an error with the given code and message. An empty
// message is replaced by code.String(). It allocates one Error.
func NewError(code Code, message string) *Error {
	if message == "" {
		message = code.String()
	}
	return &Error{Code: code, Message: message}
}

// WithData returns a copy of e whose data member is the JSON string s.
// It allocates the copy and the encoded string.
func (e *Error) WithData(s string) *Error {
	c := *e
	c.Data = AppendString(nil, s)
	return &c
}

// WithRawData returns a copy of e whose data member is the raw JSON raw,
// which must be valid JSON. It allocates the copy; raw is not copied.
func (e *Error) WithRawData(raw []byte) *Error {
	c := *e
	c.Data = raw
	return &c
}

// maxErrorDataText bounds the part of an error's data that Error shows.
const maxErrorDataText = 256

// Error implements the error interface: "jsonrpc error CODE: MESSAGE",
// followed by ": DATA" when the error has data (a string's contents, any
// other JSON as it is), cut at 256 bytes. It reads the same whichever side
// made the error: the server's answer, as the client received it.
func (e *Error) Error() string {
	b := make([]byte, 0, 64+len(e.Message))
	b = append(b, "jsonrpc error "...)
	b = strconv.AppendInt(b, int64(e.Code), 10)
	b = append(append(b, ": "...), e.Message...)
	if len(e.Data) == 0 {
		return string(b)
	}
	data := []byte(e.Data)
	if len(data) >= 2 && data[0] == '"' && Valid(data) {
		data = AppendUnescaped(nil, data[1:len(data)-1])
	}
	if len(data) > maxErrorDataText {
		cut := maxErrorDataText
		for cut > 0 && !utf8.RuneStart(data[cut]) {
			cut--
		}
		data = append(data[:cut:cut], "…"...)
	}
	return string(append(append(b, ": "...), data...))
}

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, codec.ErrMethodNotFound) matches any -32601 error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// SyntaxError describes invalid JSON: what is wrong and the byte offset
// where the parser noticed it, as encoding/json.SyntaxError does.
type SyntaxError struct {
	msg  string // a constant: never allocated on the error path
	char byte   // the offending byte, when hasChar
	// Offset is the number of bytes read before the error: the index of
	// the offending byte, or the input length for a truncated input.
	Offset  int
	hasChar bool
}

// Error returns "codec: " followed by the message and the offset.
func (e *SyntaxError) Error() string {
	b := append([]byte("codec: "), e.AppendMessage(nil)...)
	b = append(b, " at offset "...)
	return string(strconv.AppendInt(b, int64(e.Offset), 10))
}

// AppendMessage appends the message, in encoding/json's words, to dst and
// returns the extended dst.
func (e *SyntaxError) AppendMessage(dst []byte) []byte {
	if !e.hasChar {
		return append(dst, e.msg...)
	}
	dst = append(dst, "invalid character "...)
	dst = appendQuotedChar(dst, e.char)
	return append(append(dst, ' '), e.msg...)
}

// appendQuotedChar appends c quoted: 'x' when printable, '\xNN' otherwise.
func appendQuotedChar(dst []byte, c byte) []byte {
	if c >= 0x20 && c < 0x7f {
		return append(dst, '\'', c, '\'')
	}
	const hex = "0123456789abcdef"
	return append(dst, '\'', '\\', 'x', hex[c>>4], hex[c&15], '\'')
}
