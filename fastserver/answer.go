package fastserver

import (
	"io"
	"runtime/debug"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// countedBytes is the size up to which request bodies and answers are not
// counted in MaxBufferedBytes: they fit a connection's own buffers, which
// MaxConns already bounds.
const countedBytes = 16 << 10

// maxPooledAnswer bounds the answer buffers kept for reuse: one that grew
// past it for a large answer goes back to the garbage collector, so that
// a burst of large answers does not pin its memory.
const maxPooledAnswer = 256 << 10

// answer is an answer of more than countedBytes handed to fasthttp as a
// body stream of known length: fasthttp writes it with WriteTo (straight
// from this buffer) and closes it once it is written or abandoned, which
// is when the server stops counting it in MaxInFlight and
// MaxBufferedBytes. Answers are pooled; smaller answers are plain bodies.
type answer struct {
	s       *Server
	b       []byte
	off     int
	counted int // bytes counted in Server.buffered
}

var answers = sync.Pool{New: func() any { return new(answer) }}

func (a *answer) Read(p []byte) (int, error) {
	if a.off >= len(a.b) {
		return 0, io.EOF
	}
	n := copy(p, a.b[a.off:])
	a.off += n
	return n, nil
}

// WriteTo writes the rest of the answer to w in one Write.
func (a *answer) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(a.b[a.off:])
	a.off += n
	return int64(n), err
}

// SupportsBodyWriteTo tells fasthttp to use WriteTo.
func (a *answer) SupportsBodyWriteTo() bool { return true }

// Close ends the answer: written, or given up with its connection.
func (a *answer) Close() error {
	a.s.answered(a.counted)
	if cap(a.b) > maxPooledAnswer {
		a.b = nil
	}
	a.b, a.off, a.counted, a.s = a.b[:0], 0, 0, nil // kept for send to recycle
	answers.Put(a)
	return nil
}

// send hands b, a large answer, to fasthttp as a body stream, and counts
// it in MaxInFlight and MaxBufferedBytes until it is written or given up.
// The buffer a pooled answer kept from an earlier large answer goes to the
// response's body pool in exchange, so that a run of large answers cycles
// through the pools instead of growing a new buffer each time. held is
// what the request's body counted, which passes to the answer.
func (s *Server) send(ctx *fasthttp.RequestCtx, b []byte, held int) {
	a := answers.Get().(*answer)
	ctx.Response.SwapBody(a.b)
	a.s, a.b, a.counted = s, b, len(b)
	s.buffered.Add(int64(len(b) - held)) // counted, never refused: the call has run
	s.noteHighWater()
	ctx.Response.Header.SetContentTypeBytes(strApplicationJSON)
	ctx.Response.SetBodyStream(a, len(b))
}

// answered releases what an answer held once it is written or given up.
func (s *Server) answered(counted int) {
	if counted > 0 {
		s.unbuffer(counted)
	}
	s.inFlight.Add(-1)
}

// holdBody counts a request body of n bytes, announced by h, in
// MaxBufferedBytes, or reports false when it does not fit. The count is
// filed under h: fasthttp gives HeaderReceived the header, not the
// connection, and gives the same header to the handler or error handler
// that ends the request, which release it.
func (s *Server) holdBody(h *fasthttp.RequestHeader, n int) bool {
	if s.buffered.Add(int64(n)) > int64(s.cfg.MaxBufferedBytes) {
		s.buffered.Add(-int64(n))
		return false
	}
	s.bodyMu.Lock()
	s.bodies[h] = n
	s.bodyMu.Unlock()
	s.noteHighWater()
	return true
}

// releaseBody stops counting the body filed under h, if any.
func (s *Server) releaseBody(h *fasthttp.RequestHeader) {
	if n := s.takeBody(h); n > 0 {
		s.unbuffer(n)
	}
}

// takeBody unfiles the body filed under h and returns what it counts in
// MaxBufferedBytes (0 if none), for the caller to release or pass on.
func (s *Server) takeBody(h *fasthttp.RequestHeader) int {
	s.bodyMu.Lock()
	n := s.bodies[h]
	delete(s.bodies, h)
	s.bodyMu.Unlock()
	return n
}

// overBuffered reports whether the buffered bytes have reached
// MaxBufferedBytes: new calls are then refused with 503.
func (s *Server) overBuffered() bool {
	return s.buffered.Load() >= int64(s.cfg.MaxBufferedBytes)
}

// highWater is the share of MaxBufferedBytes past which, once everything
// is written, the server hands the memory back (see unbuffer).
const highWaterDivisor = 4

func (s *Server) noteHighWater() {
	if s.buffered.Load() > int64(s.cfg.MaxBufferedBytes/highWaterDivisor) {
		s.highWater.Store(true)
	}
}

// unbuffer stops counting n bytes. When the count falls to zero after a
// burst of large bodies and answers (a quarter of MaxBufferedBytes or
// more), it returns the freed memory to the system at once: the request
// path allocates nothing, so without a nudge the garbage collector would
// not run again, and the burst's buffers would stay resident until the
// runtime's forced collection every two minutes (measured: see the
// README).
func (s *Server) unbuffer(n int) {
	if s.buffered.Add(-int64(n)) == 0 && s.highWater.CompareAndSwap(true, false) {
		go releaseMemory()
	}
}

// releaseMemory returns freed memory to the system now and once more a
// second later: what sync.Pools held survives one collection in their
// victim caches, and the connections of a burst often close just after
// its last answer (under load, RSS stayed 37 MiB above its start after a
// single nudge).
func releaseMemory() {
	debug.FreeOSMemory()
	time.Sleep(time.Second)
	debug.FreeOSMemory()
}
