package fastserver

// What the tests observe of a server's accounting.

// InFlight returns the requests being handled or answered.
func (s *Server) InFlight() int64 { return s.inFlight.Load() }

// BufferedBytes returns the bytes counted against MaxBufferedBytes.
func (s *Server) BufferedBytes() int64 { return s.buffered.Load() }

// OpenConns returns the tracked connections, lingering ones included.
func (s *Server) OpenConns() int { return s.openConns() }
