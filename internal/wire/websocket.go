package wire

import (
	"encoding/binary"
	"unicode/utf8"
)

// WebSocket opcodes and close codes (RFC 6455).
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA

	CloseNormal        = 1000
	CloseGoingAway     = 1001
	CloseProtocolError = 1002
	CloseMessageTooBig = 1009
)

const (
	finBit  = 0x80
	maskBit = 0x80
)

// Control is a WebSocket control frame the reader must act on.
type Control uint8

const (
	// Ping: answer a pong with the same payload.
	Ping Control = iota + 1
	// Close: the peer closes, with the payload's code.
	Close
)

// WebSocket is one end's reading state of a WebSocket connection: a
// message sent in fragments is reassembled. FromClient says which end
// sent the frames read: a client's frames must be masked (and are
// unmasked in place), a server's must not be.
type WebSocket struct {
	FromClient bool
	asm        []byte
	assembling bool
}

func protocolError(reason string) *Error { return &Error{Protocol, reason} }

// Next looks for a whole frame at the start of buf: n = 0 when there is
// only part of one (read more), else the n bytes it took and what they
// held: a message (msg), a control frame (ctl, its payload in msg) or
// nothing (a fragment, a pong). A message sent in fragments is the
// caller's: the next one is assembled in a new buffer.
func (w *WebSocket) Next(buf []byte, max int) (n int, msg []byte, ctl Control, err *Error) {
	if len(buf) < 2 {
		return 0, nil, 0, nil
	}
	b0, b1 := buf[0], buf[1]
	if b0&0x70 != 0 {
		return 0, nil, 0, protocolError("reserved bits set (no extension was negotiated)")
	}
	masked := b1&maskBit != 0
	if masked != w.FromClient {
		if w.FromClient {
			return 0, nil, 0, protocolError("client frame not masked")
		}
		return 0, nil, 0, protocolError("server frame masked")
	}
	fin, op := b0&finBit != 0, b0&0x0F
	size, head := uint64(b1&0x7F), 2
	switch size {
	case 126:
		if len(buf) < 4 {
			return 0, nil, 0, nil
		}
		size, head = uint64(binary.BigEndian.Uint16(buf[2:])), 4
	case 127:
		if len(buf) < 10 {
			return 0, nil, 0, nil
		}
		size, head = binary.BigEndian.Uint64(buf[2:]), 10
	}
	isControl := op >= OpClose
	if isControl && (!fin || size > 125) {
		return 0, nil, 0, protocolError("fragmented or long control frame")
	}
	if !isControl && (size > uint64(max) || (w.assembling && uint64(len(w.asm))+size > uint64(max))) {
		if size > 1<<40 {
			return 0, nil, 0, tooLarge(-1, max)
		}
		return 0, nil, 0, tooLarge(int(size)+len(w.asm), max)
	}
	keyLen := 0
	if masked {
		keyLen = 4
	}
	total := head + keyLen + int(size)
	if len(buf) < total {
		return 0, nil, 0, nil
	}
	payload := buf[head+keyLen : total]
	if masked {
		unmask(payload, buf[head:head+4])
	}
	switch op {
	case OpText, OpBinary:
		if w.assembling {
			return 0, nil, 0, protocolError("new message before the last fragment of the previous one")
		}
		if fin {
			return total, payload, 0, nil
		}
		w.asm, w.assembling = append(w.asm[:0], payload...), true
		return total, nil, 0, nil
	case OpContinuation:
		if !w.assembling {
			return 0, nil, 0, protocolError("continuation frame without a message to continue")
		}
		w.asm = append(w.asm, payload...)
		if !fin {
			return total, nil, 0, nil
		}
		msg = w.asm
		w.asm, w.assembling = nil, false
		return total, msg, 0, nil
	case OpPing:
		return total, payload, Ping, nil
	case OpPong:
		return total, nil, 0, nil
	case OpClose:
		if len(payload) == 1 || (len(payload) > 2 && !utf8.Valid(payload[2:])) {
			return 0, nil, 0, protocolError("malformed close frame")
		}
		return total, payload, Close, nil
	}
	return 0, nil, 0, protocolError("unknown opcode")
}

// CloseCode returns the code of a close frame's payload (1005 when none).
func CloseCode(payload []byte) int {
	if len(payload) < 2 {
		return 1005
	}
	return int(binary.BigEndian.Uint16(payload))
}

// unmask XORs payload with the 4-byte key, eight bytes at a time.
func unmask(payload, key []byte) {
	k4 := binary.LittleEndian.Uint32(key)
	k8 := uint64(k4) | uint64(k4)<<32
	i := 0
	for ; i+8 <= len(payload); i += 8 {
		binary.LittleEndian.PutUint64(payload[i:], binary.LittleEndian.Uint64(payload[i:])^k8)
	}
	for ; i < len(payload); i++ {
		payload[i] ^= key[i&3]
	}
}

// AppendFrame appends one final frame with opcode op and payload; masked
// with key when key is not nil (a client's frames), plain otherwise.
func AppendFrame(dst []byte, op byte, payload []byte, key *[4]byte) []byte {
	var m byte
	if key != nil {
		m = maskBit
	}
	switch size := len(payload); {
	case size <= 125:
		dst = append(dst, finBit|op, m|byte(size))
	case size <= 0xFFFF:
		dst = append(dst, finBit|op, m|126, byte(size>>8), byte(size))
	default:
		dst = append(dst, finBit|op, m|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(size))
	}
	if key == nil {
		return append(dst, payload...)
	}
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	unmask(dst[start:], key[:])
	return dst
}

// AppendClose appends a close frame with code and reason (cut to fit).
func AppendClose(dst []byte, code int, reason string, key *[4]byte) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	var p [125]byte
	binary.BigEndian.PutUint16(p[:], uint16(code))
	n := 2 + copy(p[2:], reason)
	return AppendFrame(dst, OpClose, p[:n], key)
}
