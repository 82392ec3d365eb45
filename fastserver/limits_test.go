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
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/jetrpc/jetrpc/stream"
)

func TestDefaults(t *testing.T) {
	got := fastserver.New(engine.New(), fastserver.Config{}).Config()
	got.Logger = nil
	want := fastserver.Config{
		Addr: "127.0.0.1:8080", Path: "/json-rpc", MaxBodySize: 4 << 20, MaxHeaderBytes: 16 << 10,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxConns: 256 * 1024, MaxInFlight: 10_000, MaxBufferedBytes: 64 << 20,
		LingerTimeout: 5 * time.Second, LingerBytes: 128 << 20, Workers: 1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	sc := fastserver.New(engine.New(), fastserver.Config{}).Streams().Config()
	if sc.MaxMessageSize != 4<<20 || sc.MaxInFlight != 10_000 || sc.MaxInFlightPerConn != stream.DefaultMaxInFlightPerConn {
		t.Errorf("WebSocket defaults: %+v", sc)
	}
	if fastserver.New(engine.New(), fastserver.Config{LingerTimeout: -1}).Config().LingerTimeout >= 0 {
		t.Error("a negative LingerTimeout (no lingering) was replaced by the default")
	}
}

func TestMaxInFlight(t *testing.T) {
	_, h, addr := serve(t, fastserver.Config{MaxInFlight: 1})
	url := "http://" + addr + fastserver.DefaultPath
	held := make(chan int, 1)
	go func() {
		status, _, _ := postTo(http.DefaultClient, url, holdBody)
		held <- status
	}()
	<-h.started
	resp, err := http.Post(url, "application/json", strings.NewReader(pingBody))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("second call in flight: %d Retry-After=%q, want 503 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	close(h.release)
	if status := <-held; status != 200 {
		t.Errorf("the call in flight got %d", status)
	}
	if status, _, _ := postTo(http.DefaultClient, url, pingBody); status != 200 {
		t.Errorf("after the held call: %d", status)
	}
}

// TestRefusedBodiesAreReleased: a body over 16 KiB is counted in
// MaxBufferedBytes from its headers on; one refused after it was read
// (past MaxInFlight, or by the path or content-type checks) stops
// counting too, or each would shrink the bound for good (found as a
// flaky TestStalledReaders: the answers of other connections pushed the
// count to the bound between a body's headers and its handler, the 503
// leaked the body's count, and memory was never handed back).
func TestRefusedBodiesAreReleased(t *testing.T) {
	srv, h, addr := serve(t, fastserver.Config{MaxInFlight: 1})
	large := `{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("x", 32<<10) + `"],"id":1}`
	held := make(chan int, 1)
	go func() {
		status, _, _ := postTo(http.DefaultClient, "http://"+addr+fastserver.DefaultPath, holdBody)
		held <- status
	}()
	<-h.started
	for _, tc := range []struct {
		name, path, contentType string
		want                    int
	}{
		{"past MaxInFlight", fastserver.DefaultPath, "application/json", http.StatusServiceUnavailable},
		{"unknown path", "/elsewhere", "application/json", http.StatusNotFound},
		{"content type", fastserver.DefaultPath, "text/plain", http.StatusUnsupportedMediaType},
	} {
		resp, err := http.Post("http://"+addr+tc.path, tc.contentType, strings.NewReader(large))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		if n := srv.BufferedBytes(); n != 0 {
			t.Errorf("%s: %d bytes still counted after the refusal", tc.name, n)
		}
	}
	close(h.release)
	if status := <-held; status != 200 {
		t.Errorf("the call in flight got %d", status)
	}
}

func TestMaxConnsPerIP(t *testing.T) {
	srv, _, addr := serve(t, fastserver.Config{MaxConnsPerIP: 1})
	first, resp, err := pastTheBound(t, addr)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a second connection from the same IP: %v %v, want 429", resp, err)
	}
	// Closing the first frees its slot: a new connection is served again.
	first.Close()
	waitFor(t, "the server to see the first connection close", func() bool { return srv.OpenConns() == 0 })
	if status, _, err := postTo(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, "http://"+addr+fastserver.DefaultPath, pingBody); err != nil || status != 200 {
		t.Errorf("after the first connection closed: %d %v", status, err)
	}
}

// TestMaxConns: past the connection bound, a new connection is refused
// with 503 while the open ones are served.
func TestMaxConns(t *testing.T) {
	_, _, addr := serve(t, fastserver.Config{MaxConns: 1})
	if _, resp, err := pastTheBound(t, addr); err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("connection past MaxConns: %v %v, want 503 with Retry-After", resp, err)
	}
}

// pastTheBound holds open a connection on which one call was served, and
// returns it with what a second connection gets for a request: what a
// connection bound of one does to the connection past it. Both close when
// the test ends.
func pastTheBound(t *testing.T, addr string) (net.Conn, *http.Response, error) {
	t.Helper()
	resp, _, first := rawExchange(t, addr, "POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n"+pingBody)
	if resp.StatusCode != 200 {
		t.Fatalf("first connection: %d", resp.StatusCode)
	}
	second, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	second.SetDeadline(time.Now().Add(5 * time.Second))
	second.Write([]byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"))
	resp, err = http.ReadResponse(bufio.NewReader(second), nil)
	return first, resp, err
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	_, _, addr := serve(t, fastserver.Config{TLSCertFile: certFile, TLSKeyFile: keyFile})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	status, body, err := postTo(client, "https://"+addr+fastserver.DefaultPath, pingBody)
	if err != nil || status != 200 || body != pongAnswer {
		t.Errorf("over TLS: %d %s %v", status, body, err)
	}
	// Plain HTTP to the TLS port gets no HTTP answer: the server speaks TLS.
	if status, body, err := postTo(http.DefaultClient, "http://"+addr+fastserver.DefaultPath, pingBody); err == nil {
		t.Errorf("plain HTTP to the TLS port got an answer: %d %s", status, body)
	}
}

func TestTLSBadCertificate(t *testing.T) {
	srv := fastserver.New(engine.New(), fastserver.Config{TLSCertFile: "/nonexistent.pem", TLSKeyFile: "/nonexistent.key"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := srv.Serve(ln); err == nil || !strings.Contains(err.Error(), "TLS certificate") {
		t.Errorf("Serve with a missing certificate: %v", err)
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
	serve(t, fastserver.Config{Unix: sock})
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	status, body, err := postTo(client, "http://unix"+fastserver.DefaultPath, pingBody)
	if err != nil || status != 200 || body != pongAnswer {
		t.Errorf("over a unix socket: %d %s %v", status, body, err)
	}
}

func TestReusePortWorkers(t *testing.T) {
	srv := fastserver.New(testserver.Demo(t), fastserver.Config{Addr: "127.0.0.1:0", Workers: 2})
	lns, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	if len(lns) != 2 || lns[0].Addr().String() != lns[1].Addr().String() {
		t.Fatalf("listeners for 2 workers: %v", lns)
	}
	done := make(chan error, 2)
	for _, ln := range lns {
		go func() { done <- srv.Serve(ln) }()
	}
	// Fresh connections land on either listener; all are served.
	url := "http://" + lns[0].Addr().String() + fastserver.DefaultPath
	for i := range 20 {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		if status, _, err := postTo(client, url, pingBody); err != nil || status != 200 {
			t.Fatalf("connection %d: %d %v", i, status, err)
		}
	}
	if err := shutdown(srv, 5*time.Second); err != nil {
		t.Error(err)
	}
	for range lns {
		if err := <-done; !errors.Is(err, fastserver.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	}
}

// TestGracefulShutdownUnderLoad shuts the server down while clients send
// continuously and long calls are in flight: every call the server accepted
// gets its full answer, and Shutdown returns nil within the grace period.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	srv, h, addr := serve(t, fastserver.Config{})
	url := "http://" + addr + fastserver.DefaultPath
	var answered, broken atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for {
				body, want := pingBody, pongAnswer
				if w < 2 { // long calls
					body, want = holdBody, `{"jsonrpc":"2.0","result":"released","id":1}`
				}
				status, got, err := postTo(client, url, body)
				switch {
				case err != nil:
					return // not accepted: the listener is closed
				case status == 200 && got == want:
					answered.Add(1)
				default:
					broken.Add(1)
					t.Errorf("accepted call got %d %q", status, got)
				}
			}
		}()
	}
	<-h.started
	<-h.started // both long calls are in flight
	waitFor(t, "some short calls to be answered", func() bool { return answered.Load() >= 100 })
	done := make(chan error, 1)
	go func() { done <- shutdown(srv, 5*time.Second) }()
	waitFor(t, "the listener to close", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	close(h.release)
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	wg.Wait()
	if answered.Load() == 0 || broken.Load() != 0 {
		t.Errorf("answered %d, broken %d", answered.Load(), broken.Load())
	}
}

// TestWriteTimeout: a client that stops reading a large answer is cut off
// after the write timeout, its answer is given up (no longer counted), and
// the server keeps serving.
func TestWriteTimeout(t *testing.T) {
	srv, _, addr := serve(t, fastserver.Config{MaxBodySize: 64 << 20, MaxBufferedBytes: 256 << 20, WriteTimeout: 300 * time.Millisecond})
	conn, err := net.DialTCP("tcp", nil, resolve(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadBuffer(4 << 10) // a small window: the server's write stalls
	msg := strings.Repeat("w", 32<<20)
	body := `{"jsonrpc":"2.0","method":"echo","params":["` + msg + `"],"id":1}`
	go conn.Write([]byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body))
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	var first [1]byte
	if _, err := io.ReadFull(conn, first[:]); err != nil {
		t.Fatalf("no answer: %v", err)
	}
	// Stop reading: the server's write stalls, times out, and it gives up.
	waitFor(t, "the server to give up the answer", func() bool { return srv.InFlight() == 0 && srv.BufferedBytes() == 0 })
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ := io.Copy(io.Discard, conn)
	if n+1 >= int64(len(body)) {
		t.Errorf("read the whole %d-byte answer despite the write timeout", n)
	}
	if status, _, err := postTo(http.DefaultClient, "http://"+addr+fastserver.DefaultPath, pingBody); err != nil || status != 200 {
		t.Errorf("after a write timeout: %d %v", status, err)
	}
}

func resolve(t *testing.T, addr string) *net.TCPAddr {
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestIdleTimeout: an idle keep-alive connection is closed by the server.
func TestIdleTimeout(t *testing.T) {
	_, _, addr := serve(t, fastserver.Config{IdleTimeout: 200 * time.Millisecond})
	resp, _, conn := rawExchange(t, addr, "POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n"+pingBody)
	if resp.StatusCode != 200 {
		t.Fatalf("first call: %d", resp.StatusCode)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("idle connection: read %v, want EOF (closed by the server)", err)
	}
}
