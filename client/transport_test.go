package client_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/client"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
)

func TestFastHTTPOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"jsonrpc":"2.0","result":"secure","id":1}`)
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tr, err := client.NewFastHTTP(srv.URL, client.WithTLSConfig(&tls.Config{RootCAs: roots}))
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := client.New(tr).Call(context.Background(), "x", nil, &got); err != nil || got != "secure" {
		t.Errorf("over TLS: %q %v", got, err)
	}
	untrusted, _ := client.NewFastHTTP(srv.URL)
	if err := client.New(untrusted).Call(context.Background(), "x", nil, nil); err == nil {
		t.Error("a certificate from an unknown authority was accepted")
	}
}

func TestFastHTTPOverUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "rpc.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip("unix sockets unavailable:", err)
	}
	e := engine.New()
	if err := demo.Register(e); err != nil {
		t.Fatal(err)
	}
	srv := fastserver.New(e, fastserver.Config{})
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	tr, err := client.NewFastHTTP("http://unix"+fastserver.DefaultPath, client.WithUnixSocket(sock))
	if err != nil {
		t.Fatal(err)
	}
	nh, err := client.NewHTTP("http://unix"+fastserver.DefaultPath, client.WithUnixSocket(sock))
	if err != nil {
		t.Fatal(err)
	}
	for name, tr := range map[string]client.Transport{"fasthttp": tr, "nethttp": nh} {
		var pong string
		if err := client.New(tr).Call(context.Background(), "ping", nil, &pong); err != nil || pong != "pong" {
			t.Errorf("%s over a unix socket: %q %v", name, pong, err)
		}
	}
	c, err := client.Dial("http://localhost"+fastserver.DefaultPath, client.WithUnixSocket(sock))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if pong, err := client.CallFor[string](context.Background(), c, "ping", nil); err != nil || pong != "pong" {
		t.Errorf("Dial with WithUnixSocket: %q %v", pong, err)
	}
}
