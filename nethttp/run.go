package nethttp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// shutdownWait bounds how long Run waits, once the grace period is over and
// the calls still running are cancelled, for their answers to be written
// (fastserver waits as long).
const shutdownWait = 2 * time.Second

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
