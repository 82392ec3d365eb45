package fastserver_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
)

// TestRunReturnsOnceDrained: with a call in flight, cancelling Run's
// context stops the server, but Run returns only after that call was
// answered, and then with nil.
func TestRunReturnsOnceDrained(t *testing.T) {
	e := testserver.Demo(t)
	h := newHold(t, e)
	srv := fastserver.New(e, fastserver.Config{Addr: "127.0.0.1:0"})
	lns, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	addr := lns[0].Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.RunOn(ctx, 10*time.Second, lns...) }()
	answered := make(chan string, 1)
	go func() {
		_, body, _ := postTo(http.DefaultClient, "http://"+addr+fastserver.DefaultPath, holdBody)
		answered <- body
	}()
	<-h.started
	cancel()
	waitFor(t, "the listener to close", func() bool { return !accepts(addr) })
	select {
	case err := <-ran:
		t.Fatalf("Run returned %v with a call in flight", err)
	default:
	}
	close(h.release)
	body := <-answered
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
	if body != `{"jsonrpc":"2.0","result":"released","id":1}` {
		t.Errorf("the call in flight answered %q", body)
	}
}

// TestRunFailsToListen: Run returns the listen error at once.
func TestRunFailsToListen(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	srv := fastserver.New(testserver.Demo(t), fastserver.Config{Addr: taken.Addr().String()})
	if err := srv.Run(context.Background(), time.Second); err == nil {
		t.Error("Run on a taken port returned nil")
	}
}

// TestListenAndServeReturnsErrServerClosed: ListenAndServe ends with
// ErrServerClosed when Shutdown starts, never a bare nil.
func TestListenAndServeReturnsErrServerClosed(t *testing.T) {
	srv := fastserver.New(testserver.Demo(t), fastserver.Config{Addr: "127.0.0.1:0"})
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	// ListenAndServe picks its own port: shut down once it is serving,
	// which Shutdown also handles when called before.
	if err := shutdown(srv, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, fastserver.ErrServerClosed) {
		t.Errorf("ListenAndServe returned %v, want ErrServerClosed", err)
	}
}
