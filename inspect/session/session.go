package session

// A Session is for the commands that talk to the target through its inspector for more
// than one question (stack, profile, heap, arm).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/closer"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/trace"
	"github.com/nodeinspect/nodeinspect/probes"
)

// Session is an open inspector session on one process. It is used from one goroutine at a
// time. Close it on every path: it disables what was enabled, closes the inspector when
// nodeinspect opened it, and says what was left.
type Session struct {
	// Process is the process's identity, read before the attach.
	Process *model.Process
	// EventLoop is the loop sample taken before the attach (nil when none was asked for).
	EventLoop *model.EventLoop
	run       *attachRun
	conn      *attach.Conn
	lock      *os.File
	start     time.Time
	// enabled are the protocol domains a Call enabled ("Debugger"), in order.
	enabled []string
	// pausePending is set by a Debugger.pause and cleared by a resume or a disable: Close
	// resumes only a pause it asked for (never another debugger's).
	pausePending bool
	mu           sync.Mutex
	closed       bool
	// exiting is set when the process waits for this session to leave before it exits.
	exiting bool
}

// SessionError is a session that could not be opened after something was sent: Attach
// says what happened and what was left (Attach.Unconfirmed: exit 6).
type SessionError struct {
	Attach *model.Attach
	Err    error
}

func (e *SessionError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *SessionError) Unwrap() error { return e.Err }

// DefaultSessionLockWait is how long a session waits for another run's session on the
// same process to end: longer than a `stack --samples` run at its usual settings.
const DefaultSessionLockWait = 10 * time.Second

// open is OpenSession once the process's identity is read (start is when OpenSession
// began): the safety checks, the per-target lock (lockWait), a loop sample
// (sampleLoop), check, then the attach.
func (col *Target) Open(ctx context.Context, start time.Time, lockWait time.Duration, check func(p *model.Process, loop *model.EventLoop) error, sampleLoop func(context.Context)) (*Session, error) {
	col.Snap.Attach = &model.Attach{}
	trace.Printf("session: identity read")
	if err := col.checkAttachSafe(); err != nil {
		return nil, err
	}
	trace.Printf("session: checks done")
	lock, err := lockTarget(ctx, col.PID, col.Stat.StartTicks, lockWait)
	if err != nil {
		return nil, err
	}
	s, err := col.openSession(ctx, check, sampleLoop)
	if err != nil {
		unlockTarget(lock)
		return nil, err
	}
	s.lock, s.start = lock, start
	return s, nil
}

// openSession is OpenSession once the target is locked.
func (col *Target) openSession(ctx context.Context, check func(p *model.Process, loop *model.EventLoop) error, sampleLoop func(context.Context)) (*Session, error) {
	if col.Opt.Sample > 0 {
		sampleLoop(ctx)
		if col.Gone {
			return nil, fmt.Errorf("process %d exited before the attach: %w", col.PID, model.ErrNoProcess)
		}
	}
	if check != nil {
		if err := check(col.Snap.Process, col.Snap.EventLoop); err != nil {
			return nil, err
		}
	}
	run, err := col.newAttachRun()
	if err != nil {
		return nil, err
	}
	run.closeNow = true // a session's target may be blocked in JavaScript: see attach.CloseNow
	trace.Printf("session: locate")
	addr, err := run.locate(ctx)
	trace.Printf("session: located %s", addr)
	var conn *attach.Conn
	if err == nil {
		step, cancel := context.WithTimeout(ctx, run.timeout)
		conn, err = run.connect(ctx, step, addr)
		cancel()
	}
	if err != nil {
		run.cleanup(ctx)
		if gone := run.settle(err); gone != nil {
			return nil, gone
		}
		return nil, &SessionError{Attach: run.a, Err: err}
	}
	run.a.Status = "ok"
	trace.Printf("session: connected")
	sess := &Session{Process: col.Snap.Process, EventLoop: col.Snap.EventLoop, run: run, conn: conn}
	// A process that exits while a session is connected waits for it to leave ("Waiting
	// for the debugger to disconnect..."): ask to be told, so the caller can leave at once.
	conn.Subscribe("NodeRuntime.waitingForDisconnect", func(attach.Event) { sess.exiting = true })
	step, cancel := context.WithTimeout(ctx, run.timeout)
	_ = conn.Call(step, "NodeRuntime.notifyWhenWaitingForDisconnect", map[string]bool{"enabled": true}, nil)
	cancel()
	return sess, nil
}

// Exiting reports whether the process said it is exiting and waits for this session to
// leave (NodeRuntime.waitingForDisconnect): the caller should Close at once.
func (s *Session) Exiting() bool { return s.exiting }

// Timeout is the time limit of one step (each Call without a deadline of its own).
func (s *Session) Timeout() time.Duration { return s.run.timeout }

// Attach is the attach record so far (Close completes it).
func (s *Session) Attach() *model.Attach { return s.run.a }

// Warnings are the sentences the attach and the loop sample added.
func (s *Session) Warnings() []string {
	s.run.col.Lock()
	defer s.run.col.Unlock()
	return append([]string(nil), s.run.col.Snap.Warnings...)
}

// PID is the process's id.
func (s *Session) PID() int { return s.run.col.PID }

// FS is the /proc the session's process is read from.
func (s *Session) FS() probes.FS { return s.run.col.FS }

// Exited reports whether the process is gone (or a zombie, or its pid reused).
func (s *Session) Exited() bool { return s.run.col.ExitedSince() }

// Call sends a protocol command and decodes its result into result (nil: ignore it),
// within ctx's deadline or else the step time limit. A successful "<Domain>.enable" is
// remembered, and Close disables the domain.
func (s *Session) Call(ctx context.Context, method string, params, result any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.run.timeout)
		defer cancel()
	}
	if err := s.conn.Call(ctx, method, params, result); err != nil {
		if ctx.Err() != nil && !errors.Is(err, attach.ErrNoAnswer) {
			err = fmt.Errorf("%w: %w", attach.ErrNoAnswer, err)
		}
		return err
	}
	switch method {
	case "Debugger.pause":
		s.pausePending = true
	case "Debugger.resume", "Debugger.disable":
		s.pausePending = false
	}
	if domain, ok := strings.CutSuffix(method, ".enable"); ok && !slices.Contains(s.enabled, domain) {
		s.enabled = append(s.enabled, domain)
	}
	if domain, ok := strings.CutSuffix(method, ".disable"); ok {
		s.enabled = slices.DeleteFunc(s.enabled, func(d string) bool { return d == domain })
	}
	return nil
}

// Subscribe asks for the events of method (see attach.Conn.Subscribe): fn is called as each
// is read, on the caller's goroutine; nil queues them for NextEvent.
func (s *Session) Subscribe(method string, fn func(attach.Event)) { s.conn.Subscribe(method, fn) }

// NextEvent waits for the next queued event (see Subscribe).
func (s *Session) NextEvent(ctx context.Context) (attach.Event, error) {
	return s.conn.NextEvent(ctx)
}

// Pump reads one message of the session and dispatches it to its subscriber.
func (s *Session) Pump(ctx context.Context) error { return s.conn.Pump(ctx) }

// Close resumes a pause the caller asked for and did not end, disables every domain a Call enabled (in
// reverse order), queues the inspector's close when nodeinspect opened it, ends the session,
// waits for the port to go (handing anything left to the closer), and returns the attach
// record: Closed and LeftOpen say what is left (Attach.Unconfirmed means exit 6). It has its
// own time limits (ctx may be cancelled by Ctrl-C). Closing twice is harmless.
func (s *Session) Close(ctx context.Context) *model.Attach {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.run
	if s.closed {
		return r.a
	}
	s.closed = true
	defer unlockTarget(s.lock)
	limit, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	broken := false
	call := func(method string) {
		if broken {
			return
		}
		one, cancel := context.WithTimeout(limit, time.Second)
		defer cancel()
		if err := s.conn.Call(one, method, nil, nil); err != nil && !IsProtocolError(err) {
			broken = true // the connection is gone: the target ends the session itself
		}
	}
	if s.pausePending && slices.Contains(s.enabled, "Debugger") {
		call("Debugger.resume") // a pause asked for and not yet ended: "not paused" is an answer too
	}
	for i := len(s.enabled) - 1; i >= 0; i-- {
		call(s.enabled[i] + ".disable")
	}
	s.enabled = nil
	trace.Printf("session: disabled")
	if r.opened != 0 && !broken {
		r.sendClose(ctx, s.conn)
	}
	trace.Printf("session: close sent")
	r.hangUp(s.conn)
	r.cleanup(ctx)
	trace.Printf("session: cleaned up")
	_ = r.settle(nil)
	r.a.ElapsedMS = time.Since(s.start).Milliseconds()
	return r.a
}

// isProtocolError reports whether err is the target's answer (an inspector error), not a
// broken connection.
func IsProtocolError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "inspector error")
}

// lockTarget takes the per-process session lock, StateDir()/<pid>-<ticks>.lock, waiting
// up to wait for a session of another run to end: two sessions at once would each close
// the inspector under the other (a close ends every other client first).
func lockTarget(ctx context.Context, pid int, startTicks uint64, wait time.Duration) (*os.File, error) {
	if wait <= 0 {
		wait = DefaultSessionLockWait
	}
	dir := closer.StateDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make %s: %w", dir, err)
	}
	p := filepath.Join(dir, fmt.Sprintf("%d-%d.lock", pid, startTicks))
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the session lock %s: %w", p, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", p, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w: another nodeinspect run has held a session on process %d for over %s (lock %s); nothing was sent: retry when it is done", model.ErrAttachRefused, pid, wait, p)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("interrupted while waiting for another nodeinspect run on process %d: %w", pid, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// unlockTarget releases the session lock (the file stays: removing it would let two runs
// lock two different files).
func unlockTarget(f *os.File) {
	if f != nil {
		_ = f.Close()
	}
}

// StartTicks is the target's start time in clock ticks since boot (with the pid, its
// identity: a reused pid has another).
func (s *Session) StartTicks() uint64 { return s.run.col.Stat.StartTicks }
