// Package outbox coalesces what many goroutines write to one connection:
// they append framed messages to one buffer, and whoever finds nobody
// writing writes it all, swapping it with a spare, so that messages that
// come together leave in one write. Both ends of a persistent connection
// use it (the stream server and the client).
package outbox

import "sync"

// Outbox is one connection's output. Init it before use; it is safe for
// concurrent use.
type Outbox struct {
	mu       sync.Mutex
	cond     sync.Cond
	out      []byte
	spare    []byte
	flushing bool
	err      error
	max      int
	write    func([]byte) error
}

// Init sets the bound on bytes waiting (past it, appenders wait, and write
// when nobody does: a client that stops reading cannot make the
// connection buffer without limit) and the connection's write, which
// returns the error to fail with (it also closes the connection, so that
// its reader ends).
func (o *Outbox) Init(max int, write func([]byte) error) {
	o.cond.L = &o.mu
	o.max, o.write = max, write
}

// Append frames msg into the outbox (frame appends it to dst), waiting
// while the outbox is over its bound; it returns the error writing failed
// with, if it has.
func (o *Outbox) Append(frame func(dst, msg []byte) []byte, msg []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.awaitRoom()
	if o.err != nil {
		return o.err
	}
	o.out = frame(o.out, msg)
	return nil
}

// Publish moves the framed messages in local into the outbox, waiting as
// Append does, and leaves local empty: the buffers trade places when the
// outbox is empty, so a burst framed apart costs no copy.
func (o *Outbox) Publish(local *[]byte) {
	if len(*local) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.awaitRoom()
	switch {
	case o.err != nil:
	case len(o.out) == 0:
		o.out, *local = *local, o.out[:0]
		return
	default:
		o.out = append(o.out, *local...)
	}
	*local = (*local)[:0]
}

// awaitRoom waits, with mu held, while the outbox is over its bound,
// writing it when nobody else is.
func (o *Outbox) awaitRoom() {
	for len(o.out) > o.max && o.err == nil {
		if !o.flushing {
			o.flushLocked()
			continue
		}
		o.cond.Wait()
	}
}

// Flush writes what waits, unless another goroutine is writing (which
// then writes it too); it returns the error writing failed with, if it
// has.
func (o *Outbox) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.flushing && len(o.out) > 0 && o.err == nil {
		o.flushLocked()
	}
	return o.err
}

// flushLocked writes until the outbox is empty; mu is held on entry and
// exit and released while writing.
func (o *Outbox) flushLocked() {
	o.flushing = true
	for len(o.out) > 0 && o.err == nil {
		buf := o.out
		o.out = o.spare[:0]
		o.mu.Unlock()
		err := o.write(buf)
		o.mu.Lock()
		if cap(buf) <= 64<<10 {
			o.spare = buf[:0]
		} else {
			o.spare = nil // after a large message, keep no large buffer
		}
		if err != nil {
			o.err = err
		}
		o.cond.Broadcast()
	}
	o.flushing = false
	o.cond.Broadcast()
}

// Fail makes the outbox fail with err from now on (its connection has
// ended), unless it failed already, and wakes the goroutines waiting for
// room.
func (o *Outbox) Fail(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil {
		o.err = err
	}
	o.cond.Broadcast()
}

// Err returns the error writing failed with, or nil.
func (o *Outbox) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// Release drops the buffers (the connection is closed).
func (o *Outbox) Release() {
	o.mu.Lock()
	o.out, o.spare = nil, nil
	o.mu.Unlock()
}
