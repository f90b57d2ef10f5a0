package session

import (
	"fmt"
	"sync"
)

// WarningSink gathers the warnings of work that goes on after a first document was printed
// (a watch's samples, the attach's cleanup at its end), so that they still reach the user:
// the caller drains it after each frame and once more at the end. A warning already added
// is not added again (a sample that cannot read a table says so once, not every interval).
// The zero value is ready; it is safe for concurrent use.
type WarningSink struct {
	mu      sync.Mutex
	seen    map[string]bool
	pending []string
}

// Add records a warning, formatted as by fmt.Sprintf, unless the same text was added before.
func (w *WarningSink) Add(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen[msg] {
		return
	}
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	w.seen[msg] = true
	w.pending = append(w.pending, msg)
}

// Drain returns the warnings added since the last Drain, in the order they were added
// (nil when there are none).
func (w *WarningSink) Drain() []string {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.pending
	w.pending = nil
	return out
}
