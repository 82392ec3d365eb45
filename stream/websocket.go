package stream

import (
	"encoding/binary"
	"unicode/utf8"
)

// The frames of RFC 6455 a server reads and writes. The handshake is the
// HTTP server's (github.com/fasthttp/websocket); frames are cut and built
// here, because that library's reader allocates per message (NextReader
// makes a messageReader) and its writer makes one write per frame, where a
// connection with many calls in flight wants its answers in one write.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA

	finBit  = 0x80
	maskBit = 0x80

	closeNormal        = 1000
	closeGoingAway     = 1001
	closeProtocolError = 1002
	closeInvalidData   = 1007
	closeMessageTooBig = 1009
)

// wsFramer is one WebSocket connection's read state: a message sent in
// fragments is reassembled in asm.
type wsFramer struct {
	asm        []byte
	assembling bool
}

func protocolError(reason string) *frameError {
	return &frameError{code: closeProtocolError, reason: reason}
}

func (f *wsFramer) next(buf []byte, max int) (int, []byte, control, *frameError) {
	if len(buf) < 2 {
		return 0, nil, 0, nil
	}
	b0, b1 := buf[0], buf[1]
	if b0&0x70 != 0 {
		return 0, nil, 0, protocolError("reserved bits set (no extension was negotiated)")
	}
	if b1&maskBit == 0 {
		return 0, nil, 0, protocolError("client frame not masked")
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
	isControl := op >= opClose
	if isControl && (!fin || size > 125) {
		return 0, nil, 0, protocolError("fragmented or long control frame")
	}
	if !isControl && (size > uint64(max) || (f.assembling && uint64(len(f.asm))+size > uint64(max))) {
		fe := tooLarge(-1, max)
		if size <= 1<<40 {
			fe = tooLarge(int(size)+len(f.asm), max)
		}
		return 0, nil, 0, fe
	}
	total := head + 4 + int(size)
	if len(buf) < total {
		return 0, nil, 0, nil
	}
	payload := buf[head+4 : total]
	unmask(payload, buf[head:head+4])
	switch op {
	case opText, opBinary:
		if f.assembling {
			return 0, nil, 0, protocolError("new message before the last fragment of the previous one")
		}
		if fin {
			return total, payload, 0, nil
		}
		f.asm, f.assembling = append(f.asm[:0], payload...), true
		return total, nil, 0, nil
	case opContinuation:
		if !f.assembling {
			return 0, nil, 0, protocolError("continuation frame without a message to continue")
		}
		f.asm = append(f.asm, payload...)
		if !fin {
			return total, nil, 0, nil
		}
		// The message is the caller's until its calls end: the next one
		// is assembled elsewhere (fragmented messages are rare).
		msg := f.asm
		f.asm, f.assembling = nil, false
		return total, msg, 0, nil
	case opPing:
		return total, payload, ping, nil
	case opPong:
		return total, nil, 0, nil
	case opClose:
		if len(payload) == 1 || (len(payload) > 2 && !utf8.Valid(payload[2:])) {
			return 0, nil, 0, protocolError("malformed close frame")
		}
		return total, payload, closeFrame, nil
	}
	return 0, nil, 0, protocolError("unknown opcode")
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

// appendFrameHeader appends the header of an unmasked server frame.
func appendFrameHeader(dst []byte, op byte, size int) []byte {
	switch {
	case size <= 125:
		return append(dst, finBit|op, byte(size))
	case size <= 0xFFFF:
		return append(dst, finBit|op, 126, byte(size>>8), byte(size))
	}
	dst = append(dst, finBit|op, 127)
	return binary.BigEndian.AppendUint64(dst, uint64(size))
}

func (*wsFramer) appendFrame(dst, msg []byte) []byte {
	return append(appendFrameHeader(dst, opText, len(msg)), msg...)
}

// appendPong appends the pong answering a ping with payload.
func appendPong(dst, payload []byte) []byte {
	return append(appendFrameHeader(dst, opPong, len(payload)), payload...)
}

// appendPing appends a keep-alive ping.
func appendPing(dst []byte) []byte { return appendFrameHeader(dst, opPing, 0) }

func (*wsFramer) appendClose(dst []byte, code int, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	dst = appendFrameHeader(dst, opClose, 2+len(reason))
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

func (*wsFramer) overhead() int { return 10 }
