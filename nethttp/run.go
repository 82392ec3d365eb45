package nethttp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jetrpc/jetrpc/internal/httpsem"
)

// shutdownWait bounds how long Run waits, once the grace period is over and
// the calls still running are cancelled, for their answers to be written
// (fastserver waits as long).
const shutdownWait = 2 * time.Second

// quiesceWait bounds how long Run waits, before it closes the listeners,
// for the connections queued in the kernel to be accepted.
const quiesceWait = 250 * time.Millisecond

// ErrUnanswered is returned by Run when calls were still without an answer
// when it gave up.
var ErrUnanswered = errors.New("nethttp: shutdown: calls left unanswered")

// Run serves srv on lns (on srv.Addr when none is given; over TLS when
// srv.TLSConfig holds certificates) until ctx is done, then shuts it down
// gracefully: calls in flight have grace to finish, then their contexts
// are cancelled (Run wraps srv.BaseContext for that) and Run waits up to
// two more seconds for their answers. It returns once every accepted call
// was answered: nil, ErrUnanswered when some were not, or the error that
// stopped serving. It is fastserver.Server.Run for net/http:
//
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
//	defer stop()
//	err := nethttp.Run(ctx, &http.Server{Addr: addr, Handler: mux}, 10*time.Second)
func Run(ctx context.Context, srv *http.Server, grace time.Duration, lns ...net.Listener) error {
	if len(lns) == 0 {
		addr := srv.Addr
		if addr == "" {
			addr = ":http"
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		lns = []net.Listener{ln}
	}
	base, cancelCalls := context.WithCancel(context.Background())
	defer cancelCalls()
	if outer := srv.BaseContext; outer != nil {
		srv.BaseContext = func(ln net.Listener) context.Context {
			ctx, stop := context.WithCancel(outer(ln))
			context.AfterFunc(base, stop)
			return ctx
		}
	} else {
		srv.BaseContext = func(net.Listener) context.Context { return base }
	}
	conns := trackConns(srv)
	tlsOn := srv.TLSConfig != nil && (len(srv.TLSConfig.Certificates) > 0 || srv.TLSConfig.GetCertificate != nil)
	served := make(chan error, len(lns))
	for _, ln := range lns {
		go func() {
			if tlsOn {
				served <- srv.ServeTLS(ln, "", "")
			} else {
				served <- srv.Serve(ln)
			}
		}()
	}
	var failed error
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			failed = err
		}
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// net/http's Shutdown drops, unanswered, a request it reads after it
	// began: first every connection serves its request in progress and
	// closes (keep-alives off, no new connection), then Shutdown.
	srv.SetKeepAlivesEnabled(false)
	for _, ln := range lns {
		httpsem.Quiesce(ln, quiesceWait) // connections queued in the kernel are accepted, not reset
	}
	conns.waitClosed(sctx.Done())
	if err := srv.Shutdown(sctx); err != nil {
		// Grace over: the calls still running are cancelled and answer at
		// once; a second Shutdown waits (briefly) for those answers.
		cancelCalls()
		wait, cancel := context.WithTimeout(context.Background(), shutdownWait)
		defer cancel()
		if srv.Shutdown(wait) != nil {
			srv.Close()
			if failed == nil {
				failed = ErrUnanswered
			}
		}
	}
	return failed
}

// freshGrace is how long a connection accepted as Run stops may stay
// silent before it is closed: its client may have sent a request that has
// not arrived yet.
const freshGrace = 100 * time.Millisecond

// connTracker follows a server's connections through its ConnState hook
// (the server's own hook, if any, still runs).
type connTracker struct {
	mu    sync.Mutex
	fresh map[net.Conn]time.Time // accepted, no request read yet
	open  int
}

func trackConns(srv *http.Server) *connTracker {
	t := &connTracker{fresh: map[net.Conn]time.Time{}}
	outer := srv.ConnState
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		t.mu.Lock()
		switch st {
		case http.StateNew:
			t.fresh[c] = time.Now()
			t.open++
		case http.StateActive, http.StateIdle:
			delete(t.fresh, c)
		case http.StateClosed, http.StateHijacked:
			delete(t.fresh, c)
			t.open--
		}
		t.mu.Unlock()
		if outer != nil {
			outer(c, st)
		}
	}
	return t
}

// waitClosed waits until every connection has closed, or done; it closes
// the connections that stay silent past freshGrace (no byte read, none
// waiting unread).
func (t *connTracker) waitClosed(done <-chan struct{}) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		t.mu.Lock()
		open := t.open
		var silent []net.Conn
		for c, since := range t.fresh {
			if time.Since(since) >= freshGrace && !httpsem.Unread(c) { // bytes waiting unread: not silent
				silent = append(silent, c)
				delete(t.fresh, c)
			}
		}
		t.mu.Unlock()
		for _, c := range silent {
			c.Close()
		}
		if open <= 0 {
			return
		}
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}
