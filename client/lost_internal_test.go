package client

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// endProbe is a subscription that records, as it ends, whether the client
// still offered the connection that failed.
type endProbe struct {
	t              *persistent
	ended, sawConn bool
	failedConn     *pconn
}

func (p *endProbe) started(string) {}
func (p *endProbe) deliver([]byte) {}
func (p *endProbe) end(error) {
	p.t.mu.Lock()
	p.sawConn = p.t.conn == p.failedConn
	p.t.mu.Unlock()
	p.ended = true
}

// TestLostBeforeWaking: a failing connection is let go of before anything
// waiting on it is woken, so that a caller who calls again as its
// subscription ends (or its call fails) waits for the redial instead of
// finding the dead connection and failing with it (TestReconnect failed
// so in CI: a ping right after the subscription ended got the old
// connection's close).
func TestLostBeforeWaking(t *testing.T) {
	_, clientSide := net.Pipe()
	tr := &persistent{s: newSettings([]Option{WithReconnect(time.Millisecond, time.Millisecond)})}
	tr.dial = func(context.Context) (io.ReadWriteCloser, error) { return nil, errors.New("down") }
	defer tr.Close()
	c := newPconn(tr, clientSide)
	tr.conn = c
	probe := &endProbe{t: tr, failedConn: c}
	c.mu.Lock()
	c.subs["1"] = probe
	c.mu.Unlock()
	c.fail(errors.New("gone"))
	if !probe.ended {
		t.Fatal("the subscription did not end")
	}
	if probe.sawConn {
		t.Error("the subscription ended while the client still offered the failed connection")
	}
}
