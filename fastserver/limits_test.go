package fastserver_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
)

// serveTCP serves the demo methods with cfg on 127.0.0.1 (or the config's
// unix socket) and returns the server and its address.
func serveTCP(t *testing.T, cfg fastserver.Config) (*fastserver.Server, string) {
	t.Helper()
	e := engine.New(engine.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err := demo.Register(e); err != nil {
		t.Fatal(err)
	}
	if cfg.Addr == "" && cfg.Unix == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Addr = ln.Addr().String()
		ln.Close()
	}
	srv := fastserver.New(e, cfg)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	// Wait until it accepts.
	for range 100 {
		network, addr := "tcp", cfg.Addr
		if cfg.Unix != "" {
			network, addr = "unix", cfg.Unix
		}
		if c, err := net.Dial(network, addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return srv, cfg.Addr
}

func postTo(client *http.Client, url, body string) (int, string, error) {
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestDefaults(t *testing.T) {
	cfg := fastserver.New(engine.New(), fastserver.Config{}).Config()
	if cfg.Addr != "127.0.0.1:8080" || cfg.Path != "/json-rpc" || cfg.MaxBodySize != 4<<20 || cfg.ReadTimeout != 30*time.Second ||
		cfg.WriteTimeout != 30*time.Second || cfg.IdleTimeout != 2*time.Minute || cfg.MaxConns != 256*1024 ||
		cfg.MaxConnsPerIP != 0 || cfg.MaxInFlight != 10_000 || cfg.Workers != 1 || cfg.CORSOrigin != "" {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestMaxInFlight(t *testing.T) {
	_, addr := serveTCP(t, fastserver.Config{MaxInFlight: 1})
	url := "http://" + addr + fastserver.DefaultPath
	slow := make(chan int, 1)
	go func() {
		status, _, _ := postTo(http.DefaultClient, url, `{"jsonrpc":"2.0","method":"sleep","params":{"ms":300},"id":1}`)
		slow <- status
	}()
	time.Sleep(100 * time.Millisecond)
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"jsonrpc":"2.0","method":"ping","id":2}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("second call in flight: %d Retry-After=%q, want 503 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if status := <-slow; status != 200 {
		t.Errorf("the call in flight got %d", status)
	}
	if status, _, _ := postTo(http.DefaultClient, url, `{"jsonrpc":"2.0","method":"ping","id":3}`); status != 200 {
		t.Errorf("after the slow call: %d", status)
	}
}

func TestMaxConnsPerIP(t *testing.T) {
	_, addr := serveTCP(t, fastserver.Config{MaxConnsPerIP: 1})
	first, resp, err := pastTheBound(t, addr)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a second connection from the same IP: %v %v, want 429", resp, err)
	}
	// Closing the first frees its slot: a new connection is served again.
	first.Close()
	for try := 0; ; try++ {
		if status, _, err := postTo(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, "http://"+addr+fastserver.DefaultPath, `{"jsonrpc":"2.0","method":"ping","id":1}`); err == nil && status == 200 {
			break
		}
		if try == 50 {
			t.Fatal("the slot of a closed connection was never given back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pastTheBound holds open a connection on which one call was served, and
// returns it with what a second connection gets for a request: what a
// connection bound of one does to the connection past it. Both close when
// the test ends.
func pastTheBound(t *testing.T, addr string) (net.Conn, *http.Response, error) {
	t.Helper()
	first := servedConnection(t, addr)
	t.Cleanup(func() { first.Close() })
	second, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	second.SetDeadline(time.Now().Add(5 * time.Second))
	second.Write([]byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"))
	resp, err := http.ReadResponse(bufio.NewReader(second), nil)
	return first, resp, err
}

// servedConnection returns an open connection on which one call was
// served. The readiness probe's connection is released asynchronously, so
// under a connection bound it retries until this one is let in.
func servedConnection(t *testing.T, addr string) net.Conn {
	t.Helper()
	for try := 0; ; try++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1}"))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil && resp.StatusCode == 200 {
			return c
		}
		c.Close()
		if try == 50 {
			t.Fatalf("first connection never served: %v %v", resp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	_, addr := serveTCP(t, fastserver.Config{TLSCertFile: certFile, TLSKeyFile: keyFile})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	status, body, err := postTo(client, "https://"+addr+fastserver.DefaultPath, `{"jsonrpc":"2.0","method":"ping","id":1}`)
	if err != nil || status != 200 || body != `{"jsonrpc":"2.0","result":"pong","id":1}` {
		t.Errorf("over TLS: %d %s %v", status, body, err)
	}
	if _, _, err := postTo(http.DefaultClient, "http://"+addr+fastserver.DefaultPath, `{}`); err == nil {
		// Plain HTTP to a TLS port gets a TLS alert or a closed connection, not an answer.
		t.Log("plain HTTP to the TLS port got an answer")
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jetrpc test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "rpc.sock")
	serveTCP(t, fastserver.Config{Unix: sock})
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	status, body, err := postTo(client, "http://unix"+fastserver.DefaultPath, `{"jsonrpc":"2.0","method":"ping","id":1}`)
	if err != nil || status != 200 || body != `{"jsonrpc":"2.0","result":"pong","id":1}` {
		t.Errorf("over a unix socket: %d %s %v", status, body, err)
	}
}

func TestReusePortWorkers(t *testing.T) {
	srv, addr := serveTCP(t, fastserver.Config{Workers: 2})
	if srv.Config().Workers != 2 {
		t.Fatalf("workers: %d", srv.Config().Workers)
	}
	// Fresh connections land on either listener; all are served.
	for i := range 20 {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		if status, _, err := postTo(client, "http://"+addr+fastserver.DefaultPath, `{"jsonrpc":"2.0","method":"ping","id":1}`); err != nil || status != 200 {
			t.Fatalf("connection %d: %d %v", i, status, err)
		}
	}
}

// TestGracefulShutdownUnderLoad shuts the server down while clients send
// continuously and long calls are in flight: every call the server accepted
// gets its full answer, and Shutdown returns within the grace period.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	srv, addr := serveTCP(t, fastserver.Config{})
	url := "http://" + addr + fastserver.DefaultPath
	var answered, refused, broken atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := `{"jsonrpc":"2.0","method":"ping","id":1}`
				want := `{"jsonrpc":"2.0","result":"pong","id":1}`
				if w < 2 { // long calls
					body = `{"jsonrpc":"2.0","method":"sleep","params":{"ms":300},"id":2}`
					want = `{"jsonrpc":"2.0","result":null,"id":2}`
				}
				status, got, err := postTo(client, url, body)
				switch {
				case err != nil:
					refused.Add(1) // not accepted: the listener is closed
					time.Sleep(10 * time.Millisecond)
				case status == 200 && got == want:
					answered.Add(1)
				default:
					broken.Add(1)
					t.Errorf("accepted call got %d %q", status, got)
				}
			}
		}()
	}
	time.Sleep(400 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Shutdown took %v, grace period 3s", d)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d calls answered in full, %d refused after the listener closed, %d broken", answered.Load(), refused.Load(), broken.Load())
	if answered.Load() == 0 || broken.Load() != 0 {
		t.Errorf("answered %d, broken %d", answered.Load(), broken.Load())
	}
}

// TestShutdownGraceExpiry: a call longer than the grace period has its
// context cancelled when the period ends, and answers at once.
func TestShutdownGraceExpiry(t *testing.T) {
	srv, addr := serveTCP(t, fastserver.Config{})
	got := make(chan string, 1)
	go func() {
		_, body, _ := postTo(http.DefaultClient, "http://"+addr+fastserver.DefaultPath, `{"jsonrpc":"2.0","method":"sleep","params":{"ms":30000},"id":1}`)
		got <- body
	}()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	srv.Shutdown(ctx)
	select {
	case body := <-got:
		if !strings.Contains(body, `"message":"call cancelled"`) {
			t.Errorf("the long call answered %s, want its cancellation", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the long call never answered")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown with a 300ms grace took %v", d)
	}
}

// TestWriteTimeout: a client that stops reading a large answer is cut off
// after the write timeout, and the server keeps serving.
func TestWriteTimeout(t *testing.T) {
	_, addr := serveTCP(t, fastserver.Config{MaxBodySize: 64 << 20, WriteTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg := strings.Repeat("w", 32<<20)
	body := `{"jsonrpc":"2.0","method":"echo","params":["` + msg + `"],"id":1}`
	go conn.Write([]byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body))
	// Wait for the answer to start (the handler may be slow, under -race),
	// then stop reading: the server's write stalls and times out.
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	var first [1]byte
	if _, err := io.ReadFull(conn, first[:]); err != nil {
		t.Fatalf("no answer: %v", err)
	}
	time.Sleep(1500 * time.Millisecond)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ := io.Copy(io.Discard, conn)
	n++
	if n >= int64(len(body)) {
		t.Errorf("read the whole %d-byte answer despite the write timeout", n)
	}
	if status, _, err := postTo(http.DefaultClient, "http://"+addr+fastserver.DefaultPath, `{"jsonrpc":"2.0","method":"ping","id":1}`); err != nil || status != 200 {
		t.Errorf("after a write timeout: %d %v", status, err)
	}
}

// TestIdleTimeout: an idle keep-alive connection is closed by the server.
func TestIdleTimeout(t *testing.T) {
	_, addr := serveTCP(t, fastserver.Config{IdleTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1}"))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("first call: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("idle connection: read %v, want EOF (closed by the server)", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("idle connection closed after %v, idle timeout 200ms", d)
	}
}

// TestMaxConns: past the connection bound, a new connection is refused
// with 503 while the open ones are served.
func TestMaxConns(t *testing.T) {
	_, addr := serveTCP(t, fastserver.Config{MaxConns: 1})
	if _, resp, err := pastTheBound(t, addr); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("connection past MaxConns: %v %v, want 503", resp, err)
	}
}
