package spool

// Crash abandons the spool as a killed process would: the writer stops, files are closed, nothing is
// cleaned up, and the directory lock is released so the test can open it again.
func (s *Spool) Crash() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	close(s.quit)
	<-s.done
	s.mu.Lock()
	if s.active != nil {
		s.active.Close()
	}
	s.mu.Unlock()
	unlockDir(s.lock)
}

// FrameHeaderSize is the size of a record's header on disk.
const FrameHeaderSize = headerSize

// Scan exposes the segment scanner to the fuzz test.
func Scan(data []byte, fn func(off int64, seq uint64, payload []byte)) []Damage {
	return scan("fuzz", data, func(f frame) { fn(f.off, f.seq, f.payload) })
}

// AppendFrame exposes the frame encoder.
func AppendFrame(dst []byte, seq uint64, atMs int64, payload []byte) []byte {
	return appendFrame(dst, seq, atMs, payload)
}
