package connectors

import (
	"fmt"
	"io"
	"sync"
)

// Progress writes one line per step of a long sync (a page, a group, an account) to an operator's
// terminal, usually stderr. A nil *Progress writes nothing.
type Progress struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	redact *Redactor
}

// NewProgress writes lines starting with prefix ("maxim sync: ") to w; nil w writes nothing.
func NewProgress(w io.Writer, prefix string, redact *Redactor) *Progress {
	if w == nil {
		return nil
	}
	return &Progress{w: w, prefix: prefix, redact: redact}
}

// Printf writes one line (a newline is added), with registered secrets masked.
func (p *Progress) Printf(format string, args ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, p.redact.String(p.prefix+fmt.Sprintf(format, args...)))
}
