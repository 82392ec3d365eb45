package stream

// SetAnswer makes s answer every message with f instead of its engine, to
// time the framing alone.
func SetAnswer(s *Server, f func(dst, msg []byte) []byte) { s.answer = f }

// SetGoroutinePerMessage makes s run each message on a goroutine of its
// own instead of inline.
func SetGoroutinePerMessage(s *Server) { s.spawn = true }
