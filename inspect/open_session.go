package inspect

import (
	"context"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/session"
)

// SessionOptions controls OpenSession. Of Options, these apply: Any, Sample and
// SampleEvery (a loop sample before the signal; 0 takes none), AttachTimeout (each step and
// each Call), CloserBound, Deadman, AllowSIGUSR1Users.
type SessionOptions struct {
	Options
	// Check, when set, is called after the safety checks and the loop sample, before
	// anything is sent: an error refuses the attach (wrap ErrAttachRefused for exit 2).
	// loop is nil when no sample was taken.
	Check func(p *model.Process, loop *model.EventLoop) error
	// LockWait is how long to wait for another nodeinspect run that holds a session on the
	// same process (DefaultSessionLockWait when 0).
	LockWait time.Duration
}

// OpenSession attaches to pid with exactly the checks, closer, dead-man's switch and
// cleanup of `--attach`, and returns the open session. Errors: ErrNoProcess, ErrNotNode,
// ErrPermission, ErrAttachRefused (nothing was sent), or a *SessionError.
func (c *Collector) OpenSession(ctx context.Context, pid int, opt SessionOptions) (*session.Session, error) {
	start := time.Now()
	col, err := c.newCollection(pid, opt.Options)
	if err != nil {
		return nil, err
	}
	return col.Open(ctx, start, opt.LockWait, opt.Check, col.sampleLoop)
}
