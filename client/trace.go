package client

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// tracer writes the request and answer lines of WithTrace.
type tracer struct {
	mu sync.Mutex
	w  io.Writer
}

// request writes "--> " and the request.
func (t *tracer) request(req []byte) {
	if t == nil {
		return
	}
	t.line(append(append([]byte("--> "), req...), '\n'))
}

// answer writes "<-- ", the answer body and its HTTP status, or the error
// that took its place.
func (t *tracer) answer(status int, body []byte, err error) {
	if t == nil {
		return
	}
	b := []byte("<-- ")
	var he *HTTPError
	switch {
	case errors.As(err, &he):
		b = append(b, bytes.TrimRight([]byte(he.Body), "\r\n")...)
		status = he.StatusCode
	case err != nil:
		t.line(append(append(b, "error: "...), err.Error()+"\n"...))
		return
	default:
		b = append(b, bytes.TrimRight(body, "\r\n")...)
	}
	if len(b) > len("<-- ") {
		b = append(b, ' ')
	}
	b = append(strconv.AppendInt(append(b, '('), int64(status), 10), ' ')
	b = append(append(b, http.StatusText(status)...), ")\n"...)
	t.line(b)
}

func (t *tracer) line(b []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.w.Write(b)
}

// reply writes "<-- " and a persistent connection's answer (no status),
// or the error that took its place; nothing for a notification.
func (t *tracer) reply(body []byte, err error) {
	if t == nil {
		return
	}
	switch {
	case err != nil:
		t.line([]byte("<-- error: " + err.Error() + "\n"))
	case len(body) > 0:
		t.line(append(append([]byte("<-- "), bytes.TrimRight(body, "\r\n")...), '\n'))
	}
}
