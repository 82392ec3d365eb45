package stream

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/clock"
	"github.com/jetrpc/jetrpc/internal/outbox"
	"github.com/jetrpc/jetrpc/internal/wire"
)

// How a connection runs its calls: its reader runs each message inline,
// on the goroutine that read it, and a watchdog ticking every watchTick
// hands the reading over to a new goroutine when a message has run since
// before its previous tick; so a cheap call costs no goroutine and no
// switch, and one that blocks delays the next ones by one to two ticks.
// BenchmarkPipelined/ping, -cpu 1: 143 ns per ping inline, 2.7 us with a
// goroutine per message (each new goroutine grows its stack to the
// engine's depth: copystack was 60 % of that profile).
const watchTick = time.Millisecond

// deadliner is what a connection with deadlines (net.Conn, os.File) has.
type deadliner interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

var errTooManyFiles = syscall.EMFILE

// endReason says why a connection's reading ended, which decides its
// goodbye.
type endReason uint8

const (
	endEOF      endReason = iota // the client closed, or a read failed
	endClosed                    // the client sent a WebSocket close frame
	endFrame                     // a framing error
	endShutdown                  // the server is shutting down
	endWrite                     // a write failed: the client is gone
)

// conn is one persistent connection.
type conn struct {
	s       *Server
	rwc     io.ReadWriteCloser
	dl      deadliner // nil when rwc has no deadlines
	framer  framer
	framing string
	ws      bool
	peer    *engine.Peer
	ctx     context.Context
	max     int

	// The read role. cur is the reading goroutine's buffer; a takeover
	// copies its unread bytes under handoff. state is 0 while the reader
	// reads, epoch<<1|1 while it runs a message inline.
	handoff   sync.Mutex
	cur       *readBuf
	state     atomic.Uint64
	watched   atomic.Bool
	handedOff atomic.Int32   // goroutines still running a message after a takeover
	readers   sync.WaitGroup // the reader and the handed-off goroutines
	closing   atomic.Bool

	// Owned by the reader (passed on with the read role).
	end       endReason
	endErr    *frameError
	closeCode int
	pinged    bool
	rdAt      int64 // when the read deadline set last expires (clock.Nanotime), 0 for none
	rdKind    uint8

	// The write side: answers leave coalesced (see outbox); wdAt is when
	// the write deadline set expires (clock.Nanotime).
	outbox outbox.Outbox
	wdAt   int64

	spawned chan struct{} // see spawnMessage
}

func newConn(s *Server, rwc io.ReadWriteCloser, f Framing) *conn {
	c := &conn{s: s, rwc: rwc, framer: f.framer(), framing: f.String(), ws: f.name == WebSocket.name, max: s.cfg.MaxMessageSize}
	if dl, ok := rwc.(deadliner); ok && dl.SetReadDeadline(time.Time{}) == nil {
		c.dl = dl // not for a terminal or a regular file, which have none
	}
	c.outbox.Init(s.cfg.MaxBufferedBytes, c.write)
	c.peer = engine.NewPeer(s.base, c)
	c.ctx = c.peer.Context()
	return c
}

// serve runs the connection to its end.
func (c *conn) serve() error {
	c.readers.Add(1)
	rb := getReadBuf()
	c.cur = rb
	c.readLoop(rb)
	c.readers.Wait() // every call read has answered
	c.peer.Close()
	c.goodbye()
	if l := c.s.cfg.Logger; l != nil && (c.end == endFrame || c.end == endWrite) {
		reason := "client stopped reading"
		if c.end == endFrame {
			reason = c.endErr.reason
		}
		l.Debug("stream: connection ended", "framing", c.framing, "reason", reason)
	}
	putReadBuf(c.cur)
	c.rwc.Close()
	c.outbox.Release()
	if c.end == endFrame {
		return c.endErr
	}
	if c.end == endShutdown {
		return ErrServerClosed
	}
	return nil
}

var messageContexts = sync.Pool{New: func() any { return new(engine.MessageContext) }}

var scratches = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// reader is what the goroutine holding the read role owns: its read
// buffer, the context of its messages, and the answers it has framed but
// not yet published to the connection's output.
type reader struct {
	rb      *readBuf
	mc      *engine.MessageContext
	scratch *[]byte // an answer being built
	local   *[]byte // framed answers, published before the next read
	holding bool    // a slot of the server-wide in-flight bound
	n       int     // answers framed since the last flush
}

// readLoop holds the read role: it reads messages and runs each inline
// until the connection ends or a takeover gives the role to another
// goroutine. The answers of a burst of messages are framed into a buffer
// of its own and published to the output with one lock before it waits
// for more bytes; the in-flight slot is taken once per burst too.
func (c *conn) readLoop(rb *readBuf) {
	defer c.readers.Done()
	r := &reader{rb: rb, mc: messageContexts.Get().(*engine.MessageContext),
		scratch: scratches.Get().(*[]byte), local: scratches.Get().(*[]byte)}
	r.mc.Reset(c.ctx)
	defer c.endReader(r)
	for {
		msg, ok := c.next(r)
		if !ok {
			return
		}
		if c.s.spawn {
			c.spawnMessage(msg)
			continue
		}
		st := c.s.epoch.Load()<<1 | 1
		c.state.Store(st)
		c.watch()
		if !r.holding {
			c.acquire()
			r.holding = true
		}
		ans := c.answer(r.mc, (*r.scratch)[:0], msg)
		*r.scratch = ans[:0]
		if len(ans) > 0 {
			*r.local = c.framer.appendFrame(*r.local, ans)
			if r.n++; r.n >= flushEvery || len(*r.local) > localLimit {
				r.n = 0
				c.publish(r.local)
				c.flush()
			}
		}
		if r.mc.HasPending() {
			c.publish(r.local) // a subscription's first notification follows its answer
			r.mc.Answered()
		}
		if !c.state.CompareAndSwap(st, 0) {
			// Taken over while running: another goroutine reads now.
			c.awaitHandoff()
			c.publish(r.local)
			c.flush()
			putReadBuf(rb)
			c.handedOff.Add(-1)
			return
		}
	}
}

// flushEvery is how many answers of a burst leave together: the client
// starts on them while the rest are computed, instead of both ends taking
// turns (1 connection × 64 pings in flight, pinned: 845,000 pings/s with
// the server's core 56 % busy when a burst left in one write, 1.5 M and
// 92 % in writes of 16; every 32: 950,000).
const flushEvery = 16

// localLimit bounds the answers a reader holds before publishing them.
const localLimit = 64 << 10

// endReader publishes what r holds and returns its buffers.
func (c *conn) endReader(r *reader) {
	c.publish(r.local)
	c.release(r)
	r.mc.Reset(context.Background()) // keep no connection alive from the pool
	messageContexts.Put(r.mc)
	for _, b := range []*[]byte{r.scratch, r.local} {
		if cap(*b) > 64<<10 {
			*b = make([]byte, 0, 4096) // keep no huge answer buffer in the pool
		}
		scratches.Put(b)
	}
}

// release gives back the reader's in-flight slot.
func (c *conn) release(r *reader) {
	if r.holding {
		c.s.cfg.InFlight.Add(-1)
		r.holding = false
	}
}

// publish moves the framed answers in local to the output (waiting while
// it is over its bound), leaving local empty.
func (c *conn) publish(local *[]byte) { c.outbox.Publish(local) }

// answer runs msg through the engine (or the benchmarks' stand-in).
func (c *conn) answer(ctx context.Context, dst, msg []byte) []byte {
	if c.s.answer != nil {
		return c.s.answer(dst, msg)
	}
	return c.s.engine.Append(ctx, dst, msg)
}

// spawnMessage runs msg on a goroutine of its own: the design measured
// against the inline reader (BenchmarkDispatch), not used otherwise.
func (c *conn) spawnMessage(msg []byte) {
	msg = append([]byte(nil), msg...) // the read buffer moves on
	if c.spawned == nil {
		c.spawned = make(chan struct{}, c.s.cfg.MaxInFlightPerConn)
	}
	c.spawned <- struct{}{} // the connection's bound, as inline
	c.acquire()
	c.readers.Add(1)
	go func() {
		defer func() { <-c.spawned; c.readers.Done() }()
		mc := messageContexts.Get().(*engine.MessageContext)
		mc.Reset(c.ctx)
		sp := scratches.Get().(*[]byte)
		ans := c.answer(mc, (*sp)[:0], msg)
		if len(ans) > 0 {
			_ = c.queue(ans)
		}
		mc.Answered()
		*sp = ans[:0]
		scratches.Put(sp)
		messageContexts.Put(mc)
		c.s.cfg.InFlight.Add(-1)
		c.flush()
	}()
}

// awaitHandoff returns once a takeover has copied the unread bytes out of
// the old reader's buffer: takeOver holds handoff while it copies.
func (c *conn) awaitHandoff() {
	c.handoff.Lock()
	defer c.handoff.Unlock()
}

// acquire takes a slot of the server-wide in-flight bound, waiting while
// there is none (reading pauses meanwhile).
func (c *conn) acquire() {
	max := int64(c.s.cfg.MaxInFlight)
	for c.s.cfg.InFlight.Add(1) > max {
		c.s.cfg.InFlight.Add(-1)
		c.flush()
		time.Sleep(time.Millisecond)
	}
}

// watch puts the connection on the watchdog's list while it runs a
// message; one atomic load when it is there already.
func (c *conn) watch() {
	if c.watched.Load() || !c.watched.CompareAndSwap(false, true) {
		return
	}
	s := c.s
	s.watchMu.Lock()
	s.watching = append(s.watching, c)
	if !s.watchOn {
		s.watchOn = true
		go s.watchdog()
	}
	s.watchMu.Unlock()
}

// watchdog hands the read role of connections whose message has run for
// more than a tick to a new goroutine. It stops after a second with
// nothing to watch; watch starts it again.
func (s *Server) watchdog() {
	t := time.NewTicker(watchTick)
	defer t.Stop()
	var list []*conn
	idle := 0
	for range t.C {
		epoch := s.epoch.Add(1)
		s.watchMu.Lock()
		list, s.watching = s.watching, list[:0]
		if len(list) == 0 {
			if idle++; idle > 1000 {
				s.watchOn = false
				s.watchMu.Unlock()
				return
			}
		} else {
			idle = 0
		}
		s.watchMu.Unlock()
		for i, c := range list {
			list[i] = nil
			c.watched.Store(false)
			st := c.state.Load()
			if st&1 == 0 {
				continue // reading: its next message puts it back
			}
			if st>>1+1 < epoch && c.takeOver(st) {
				continue
			}
			c.watch()
		}
	}
}

// takeOver gives the read role to a new goroutine while the reader runs
// the message it began in state st; false when the connection's bound on
// calls in flight is reached (reading waits: that is the backpressure).
func (c *conn) takeOver(st uint64) bool {
	if int(c.handedOff.Load())+1 >= c.s.cfg.MaxInFlightPerConn || c.closing.Load() {
		return false
	}
	c.handoff.Lock()
	defer c.handoff.Unlock()
	if !c.state.CompareAndSwap(st, 0) {
		return true // it finished meanwhile
	}
	old := c.cur
	rb := getReadBuf()
	rb.take(old.b[old.r:old.w])
	c.cur = rb
	c.handedOff.Add(1)
	c.readers.Add(1)
	go c.readLoop(rb)
	return true
}

// next returns the next message, reading as needed; false when reading
// has ended (c.end says why).
func (c *conn) next(r *reader) ([]byte, bool) {
	rb := r.rb
	for {
		if rb.r < rb.w {
			n, msg, ctl, ferr := c.framer.next(rb.b[rb.r:rb.w], c.max)
			if ferr != nil {
				c.end, c.endErr = endFrame, ferr
				return nil, false
			}
			if n > 0 {
				rb.r += n
				switch ctl {
				case wire.Ping:
					_ = c.queueFrame(appendPong, msg)
					continue
				case wire.Close:
					c.end, c.closeCode = endClosed, wire.CloseNormal
					if len(msg) >= 2 {
						c.closeCode = wire.CloseCode(msg)
					}
					return nil, false
				}
				if msg == nil {
					continue
				}
				return msg, true
			}
		}
		if c.closing.Load() {
			c.end = endShutdown
			return nil, false
		}
		// What was read is answered before waiting for more, and the
		// reader holds no in-flight slot while it waits.
		c.publish(r.local)
		c.release(r)
		c.flush()
		if c.werrSet() {
			c.end = endWrite
			return nil, false
		}
		if !c.fill(rb) {
			return nil, false
		}
	}
}

// fill reads more bytes into rb, under the read, idle or ping deadline.
func (c *conn) fill(rb *readBuf) bool {
	rb.makeRoom(c.max + c.framer.overhead() + 14)
	for {
		partial := rb.r < rb.w
		if c.dl != nil {
			switch {
			case partial:
				c.armRead(1, c.s.cfg.ReadTimeout)
			case c.ws:
				c.armRead(2, c.s.cfg.PingInterval)
			default:
				c.armRead(3, c.s.cfg.IdleTimeout)
			}
		}
		n, err := c.rwc.Read(rb.b[rb.w:])
		rb.w += n
		if n > 0 {
			c.pinged = false
			return true
		}
		if err == nil {
			continue
		}
		if c.closing.Load() {
			c.end = endShutdown
			return false
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
			switch {
			case partial:
			case c.ws && !c.pinged:
				c.pinged = true // silent for an interval: is it still there?
				c.queueFrame(func(dst, _ []byte) []byte { return appendPing(dst) }, nil)
				c.flush()
				c.rdAt = 0
				continue
			case !c.ws && (c.handedOff.Load() > 0 || c.peer.Subscriptions() > 0):
				c.rdAt = 0 // idle for reading, busy otherwise
				continue
			}
		}
		c.end = endEOF
		return false
	}
}

// armRead sets the read deadline to d from now, unless the one set is for
// the same kind of wait and at most an eighth older: re-arming costs a
// timer update, so a busy connection pays for it a few times per d.
func (c *conn) armRead(kind uint8, d time.Duration) {
	if d < 0 {
		if c.rdAt != 0 {
			_ = c.dl.SetReadDeadline(time.Time{})
			c.rdAt, c.rdKind = 0, kind
		}
		return
	}
	now := clock.Nanotime()
	if kind == c.rdKind && c.rdAt-now > int64(d-d/8) {
		return
	}
	_ = c.dl.SetReadDeadline(time.Now().Add(d))
	c.rdAt, c.rdKind = now+int64(d), kind
}

// queue frames ans into the output, waiting while the output is over its
// bound; an error once writing has failed.
func (c *conn) queue(ans []byte) error {
	return c.queueFrame(c.framer.appendFrame, ans)
}

func (c *conn) queueFrame(frame func(dst, msg []byte) []byte, msg []byte) error {
	return c.outbox.Append(frame, msg)
}

// Push queues msg after the answers queued before it and writes it
// (engine.Pusher, for notifications).
func (c *conn) Push(msg []byte) error {
	if err := c.queue(msg); err != nil {
		return engine.ErrPeerClosed
	}
	c.flush()
	return nil
}

// flush writes the output unless another goroutine is writing it (which
// then writes what was queued too).
func (c *conn) flush() { _ = c.outbox.Flush() }

func (c *conn) werrSet() bool { return c.outbox.Err() != nil }

// write writes buf under the write deadline, re-armed as reads are; a
// failed write closes the connection, so that its reader ends.
func (c *conn) write(buf []byte) error {
	if c.dl != nil {
		if d := c.s.cfg.WriteTimeout; d > 0 {
			now := clock.Nanotime()
			if c.wdAt-now <= int64(d-d/8) {
				_ = c.dl.SetWriteDeadline(time.Now().Add(d))
				c.wdAt = now + int64(d)
			}
		}
	}
	_, err := c.rwc.Write(buf)
	if err != nil {
		c.rwc.Close()
	}
	return err
}

// beginClose makes the connection stop reading new messages (Shutdown):
// a reader waiting for bytes wakes at once.
func (c *conn) beginClose() {
	c.closing.Store(true)
	c.peer.EndSubscriptions()
	if c.dl != nil {
		_ = c.dl.SetReadDeadline(time.Unix(1, 0))
		return
	}
	// No deadlines (a pipe): once nothing runs, closing is what wakes
	// the reader.
	go func() {
		for c.state.Load() != 0 || c.handedOff.Load() > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		c.flush()
		c.rwc.Close()
	}()
}

// goodbye ends the connection as its end reason asks: a framing error is
// answered (plain streams) or closes with its code (WebSocket); a
// WebSocket close is echoed; at shutdown a WebSocket client gets 1001 and
// a second to answer it.
func (c *conn) goodbye() {
	switch c.end {
	case endFrame:
		if c.ws {
			_ = c.queueFrame(func(dst, _ []byte) []byte { return c.framer.appendClose(dst, c.endErr.code, c.endErr.reason) }, nil)
		} else if c.endErr.answer != nil {
			_ = c.queue(codec.AppendError(nil, nil, c.endErr.answer))
		}
	case endClosed:
		_ = c.queueFrame(func(dst, _ []byte) []byte { return c.framer.appendClose(dst, c.closeCode, "") }, nil)
	case endShutdown:
		if c.ws {
			_ = c.queueFrame(func(dst, _ []byte) []byte {
				return c.framer.appendClose(dst, wire.CloseGoingAway, "server shutting down")
			}, nil)
			c.flush()
			c.awaitClose()
			return
		}
	}
	c.flush()
}

// awaitClose reads until the client's close frame, for at most a second.
func (c *conn) awaitClose() {
	if c.dl == nil || c.werrSet() {
		return
	}
	_ = c.dl.SetReadDeadline(time.Now().Add(time.Second))
	rb := c.cur
	for {
		for rb.r < rb.w {
			n, _, ctl, ferr := c.framer.next(rb.b[rb.r:rb.w], c.max)
			if ferr != nil || ctl == wire.Close {
				return
			}
			if n == 0 {
				break
			}
			rb.r += n
		}
		rb.makeRoom(c.max + c.framer.overhead() + 14)
		n, err := c.rwc.Read(rb.b[rb.w:])
		rb.w += n
		if err != nil {
			return
		}
	}
}

// readBuf is a connection's read buffer: b[r:w] is read and not yet
// parsed.
type readBuf struct {
	b    []byte
	r, w int
}

const readBufSize = 4 << 10

var readBufs = sync.Pool{New: func() any { return &readBuf{b: make([]byte, readBufSize)} }}

func getReadBuf() *readBuf { return readBufs.Get().(*readBuf) }

func putReadBuf(rb *readBuf) {
	if len(rb.b) > 64<<10 {
		rb.b = make([]byte, readBufSize) // keep no large buffer in the pool
	}
	rb.r, rb.w = 0, 0
	readBufs.Put(rb)
}

// take makes rb hold exactly data.
func (rb *readBuf) take(data []byte) {
	if len(rb.b) < len(data)+readBufSize {
		rb.b = make([]byte, len(data)+readBufSize)
	}
	rb.r, rb.w = 0, copy(rb.b, data)
}

// makeRoom makes space to read into: the unparsed bytes move to the
// front, and the buffer grows (up to limit) when they fill it.
func (rb *readBuf) makeRoom(limit int) {
	if rb.r == rb.w {
		rb.r, rb.w = 0, 0
		if len(rb.b) > 64<<10 {
			rb.b = make([]byte, readBufSize) // a large message has passed
		}
	}
	if rb.w < len(rb.b) {
		return
	}
	if rb.r > 0 {
		rb.w = copy(rb.b, rb.b[rb.r:rb.w])
		rb.r = 0
		return
	}
	size := min(2*len(rb.b), limit)
	if size <= len(rb.b) {
		size = len(rb.b) + readBufSize // the framer reports the limit
	}
	nb := make([]byte, size)
	copy(nb, rb.b[:rb.w])
	rb.b = nb
}
