package fastserver

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/valyala/fasthttp"
)

// callContext is the context of a request's calls, and the carrier of its
// engine.Metadata. Its deadline is the request's start plus WriteTimeout;
// it is done when the call must end: its client went away, its deadline
// passed (both seen by the watcher), or Shutdown's grace period ended.
//
// Each connection has one, reused by its requests (pooled ones serve
// connections the server did not accept); it is valid only until the
// handler returns. Its Done channel is replaced only after it was closed,
// so a call that runs to its end allocates nothing.
type callContext struct {
	s     *Server
	rc    *fasthttp.RequestCtx
	conn  *conn     // nil when the request came on a connection the server did not accept
	start time.Time // the request's; its deadline is start + WriteTimeout

	mu      sync.Mutex // guards what the watcher reads and writes
	running bool
	done    chan struct{}
	err     error
}

func (c *callContext) Deadline() (time.Time, bool) { return c.start.Add(c.s.cfg.WriteTimeout), true }
func (c *callContext) Done() <-chan struct{}       { return c.done }

func (c *callContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *callContext) Value(key any) any {
	if _, ok := key.(engine.MetadataKey); ok {
		return c
	}
	return nil
}

// RemoteAddr implements engine.Metadata.
func (c *callContext) RemoteAddr() net.Addr { return c.rc.RemoteAddr() }

// Header implements engine.Metadata.
func (c *callContext) Header(name string) []byte { return c.rc.Request.Header.Peek(name) }

// endLocked ends the call with err, once; c.mu is held.
func (c *callContext) endLocked(err error) {
	if c.err == nil {
		c.err = err
		close(c.done)
	}
}

// endIf ends the call with err if one is running on conn (a pooled
// context may have moved to another connection since it was found).
func (c *callContext) endIf(conn *conn, err error) {
	c.mu.Lock()
	if c.running && c.conn == conn {
		c.endLocked(err)
	}
	c.mu.Unlock()
}

// acquireCall returns the context for a request's calls: the one of its
// connection (HTTP/1.1 serves one request at a time on a connection), or
// one from a pool for a connection the server did not accept.
func (s *Server) acquireCall(rc *fasthttp.RequestCtx, c *conn) *callContext {
	s.startWatch.Do(func() { go s.watch() })
	var cc *callContext
	if c != nil {
		cc = &c.call
	} else {
		cc = s.callPool.Get().(*callContext)
		s.mu.Lock()
		s.untracked[cc] = struct{}{}
		s.mu.Unlock()
	}
	cc.mu.Lock()
	cc.rc, cc.start = rc, rc.Time()
	cc.running = true
	cc.mu.Unlock()
	// Running first, checked second: cancelCalls sets the flag first and
	// looks second, so one of the two sees the other.
	if s.cancelled.Load() {
		cc.endIf(c, context.Canceled)
	}
	return cc
}

// releaseCall ends a request's context once its calls have ended.
func (s *Server) releaseCall(cc *callContext) {
	cc.mu.Lock()
	cc.running = false
	if cc.err != nil {
		cc.done, cc.err = make(chan struct{}), nil
	}
	cc.rc = nil
	cc.mu.Unlock()
	if cc.conn == nil {
		s.mu.Lock()
		delete(s.untracked, cc)
		s.mu.Unlock()
		s.callPool.Put(cc)
	}
}

// watchInterval is how often the watcher looks at the calls in progress:
// a call that has run for longer is checked for a gone client and a
// passed deadline, so a call ends within two intervals of either. Calls
// shorter than an interval cost it nothing.
const watchInterval = 200 * time.Millisecond

// watch ends calls whose client went away or whose deadline passed, until
// Shutdown stops it. Learning that a client went away needs a look at its
// socket (fasthttp reads nothing while a handler runs, and reading would
// consume pipelined requests); one non-blocking poll(2) per long call per
// interval does it without touching the request path, where an epoll
// registration per call would cost two system calls.
func (s *Server) watch() {
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	var calls []runningCall
	for {
		var now time.Time
		select {
		case <-s.stopWatch:
			return
		case now = <-t.C:
		}
		calls = s.runningCalls(calls[:0])
		for _, r := range calls {
			r.call.check(r.conn, now)
		}
	}
}

// runningCall is a call in progress and the connection it came on.
type runningCall struct {
	conn *conn
	call *callContext
}

// runningCalls appends the calls that may be in progress to dst: every
// connection's, and the untracked ones (check and endIf look closer).
func (s *Server) runningCalls(dst []runningCall) []runningCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		dst = append(dst, runningCall{c, &c.call})
	}
	for cc := range s.untracked {
		dst = append(dst, runningCall{nil, cc})
	}
	return dst
}

// check ends the call if it is still the one on conn, has run for a watch
// interval, and its deadline passed or its client is gone.
func (c *callContext) check(conn *conn, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running || c.conn != conn || c.err != nil || now.Sub(c.start) < watchInterval {
		return
	}
	switch {
	case now.Sub(c.start) > c.s.cfg.WriteTimeout:
		c.endLocked(context.DeadlineExceeded)
	case conn != nil && peerGone(conn.sock):
		c.endLocked(context.Canceled)
	}
}

// cancelCalls ends every call in progress, and every call that starts
// from now on, with context.Canceled.
func (s *Server) cancelCalls() {
	s.cancelled.Store(true)
	for _, r := range s.runningCalls(nil) {
		r.call.endIf(r.conn, context.Canceled)
	}
}
