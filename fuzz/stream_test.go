package fuzz

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/jetrpc/jetrpc/internal/memconn"
	"github.com/jetrpc/jetrpc/internal/streamtest"
	"github.com/jetrpc/jetrpc/stream"
)

// FuzzStream feeds raw bytes to each stream framing (the first byte picks
// it): the server never panics or hangs, and every message it writes back
// is a JSON-RPC answer (or notification) framed as the framing says; a
// WebSocket connection ends with a close frame at most.
func FuzzStream(f *testing.F) {
	frame := func(framing string, msgs ...string) []byte {
		c := streamtest.New(nil, framing)
		var b []byte
		for _, m := range msgs {
			b = append(b, c.Frame(m)...)
		}
		return b
	}
	for i, framing := range []string{"line", "header", "websocket"} {
		for _, s := range requestSeeds() {
			if framing == "line" {
				s = strings.ReplaceAll(s, "\n", " ")
			}
			f.Add(append([]byte{byte(i)}, frame(framing, s, `{"jsonrpc":"2.0","method":"ping","id":2}`)...))
		}
		f.Add(append([]byte{byte(i)}, frame(framing, `{"jsonrpc":"2.0","method":"demo_subscribe","params":["ticks",2],"id":1}`)...))
	}
	f.Add([]byte("\x01Content-Length: 5\r\nContent-Length: x\r\n\r\n"))
	f.Add([]byte("\x01Content-Length: 99999999\r\n\r\n"))
	f.Add(append([]byte{2}, streamtest.MaskedFrame(1, false, []byte(`{"jsonrpc":`))...))
	f.Add([]byte("\x02\x81\xff\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Add([]byte("\x02\x88\x81abcd!"))
	framings := []stream.Framing{stream.Line, stream.Header, stream.WebSocket}
	servers := make([]*stream.Server, len(framings))
	for i, fr := range framings {
		servers[i] = stream.New(newEngine(f), stream.Config{Framing: fr, MaxMessageSize: 64 << 10})
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		i := int(in[0]) % len(framings)
		conn := &memconn.Conn{}
		conn.In.Write(in[1:])
		_ = servers[i].ServeConn(conn) // returns at the end of the input, after the answers
		checkFrames(t, framings[i].String(), in, conn.Out.Bytes())
	})
}

// checkFrames checks that out is a sequence of framing's frames, each a
// JSON-RPC answer or notification.
func checkFrames(t *testing.T, framing string, in, out []byte) {
	r := bufio.NewReader(bytes.NewReader(out))
	for n := 0; ; n++ {
		var msg []byte
		switch framing {
		case "line":
			line, err := r.ReadBytes('\n')
			if err == io.EOF && len(line) == 0 {
				return
			}
			if err != nil {
				t.Fatalf("answer %d to %q is not a line: %q", n, in, out)
			}
			msg = line[:len(line)-1]
		case "header":
			head, err := r.ReadString('\n')
			if err == io.EOF && head == "" {
				return
			}
			size, perr := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "Content-Length:")))
			blank, _ := r.ReadString('\n')
			if err != nil || perr != nil || blank != "\r\n" {
				t.Fatalf("answer %d to %q has a bad header: %q", n, in, out)
			}
			msg = make([]byte, size)
			if _, err := io.ReadFull(r, msg); err != nil {
				t.Fatalf("answer %d to %q is cut short: %q", n, in, out)
			}
		case "websocket":
			var h [2]byte
			if _, err := io.ReadFull(r, h[:]); err == io.EOF {
				return
			} else if err != nil || h[0]&0x80 == 0 || h[1]&0x80 != 0 {
				t.Fatalf("answer %d to %q is not a server frame: %q", n, in, out)
			}
			size := int(h[1] & 0x7F)
			switch size {
			case 126:
				var b [2]byte
				_, _ = io.ReadFull(r, b[:])
				size = int(binary.BigEndian.Uint16(b[:]))
			case 127:
				var b [8]byte
				_, _ = io.ReadFull(r, b[:])
				size = int(binary.BigEndian.Uint64(b[:]))
			}
			msg = make([]byte, size)
			if _, err := io.ReadFull(r, msg); err != nil {
				t.Fatalf("frame %d to %q is cut short: %q", n, in, out)
			}
			switch h[0] & 0x0F {
			case 0xA: // pong
				continue
			case 0x8: // close: the last frame
				if rest, _ := io.ReadAll(r); len(rest) > 0 {
					t.Fatalf("bytes after the close frame for %q: %q", in, out)
				}
				return
			case 0x1:
			default:
				t.Fatalf("frame %d to %q has opcode %x", n, in, h[0]&0x0F)
			}
		}
		var m map[string]json.RawMessage
		var batch []map[string]json.RawMessage
		if json.Unmarshal(msg, &m) != nil && json.Unmarshal(msg, &batch) != nil {
			t.Fatalf("answer %d to %q is not a JSON object or array: %q", n, in, msg)
		}
		if m == nil && len(batch) == 0 {
			t.Fatalf("answer %d to %q is empty: %q", n, in, msg)
		}
		for _, a := range append(batch, m) {
			if a != nil && string(a["jsonrpc"]) != `"2.0"` {
				t.Fatalf("answer %d to %q is not JSON-RPC 2.0: %q", n, in, msg)
			}
		}
	}
}
