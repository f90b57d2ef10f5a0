package stack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/jsstack"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/session"
	"github.com/nodeinspect/nodeinspect/probes"
)

// Options controls CollectStack.
type Options struct {
	inspect.SessionOptions
	// Samples is how many times to pause (≥ 1); Interval the time between two pauses.
	Samples  int
	Interval time.Duration
	// Workers also dumps each worker thread.
	Workers bool
}

// Limits of --samples and --interval (usage errors outside them).
const (
	MaxSamples     = 1000
	MinInterval    = time.Millisecond
	DefaultSamples = 1
	// DefaultStackInterval is the time between two pauses of --samples.
	DefaultInterval = 10 * time.Millisecond
)

// precheckWindow is how long stackPrecheck watches the main thread at most, in slices of
// precheckSlice (each a few reads 3 ms apart).
const (
	precheckWindow = 30 * time.Millisecond
	precheckSlice  = 6 * time.Millisecond
)

// CheckOptions returns a usage error for samples or an interval out of range.
func CheckOptions(samples int, interval time.Duration) error {
	if samples < 1 || samples > MaxSamples {
		return fmt.Errorf("--samples %d: give 1 to %d", samples, MaxSamples)
	}
	if samples > 1 && interval < MinInterval {
		return fmt.Errorf("--interval %s: give at least %s (each pause stops the process's JavaScript for a moment)", interval, MinInterval)
	}
	return nil
}

// Collect attaches to pid, pauses its main thread (and with Workers each worker)
// Samples times, and returns the distinct stacks. Every pause is followed by a resume on
// every path; the session is closed (debugger disabled, inspector closed when nodeinspect
// opened it) before it returns. The document's Attach says what was left (Unconfirmed:
// exit 6). A main thread blocked in a system call that no pause can interrupt is refused
// (ErrAttachRefused) before anything is sent.
func Collect(ctx context.Context, c *inspect.Collector, pid int, opt Options) (*model.StackDoc, error) {
	if err := CheckOptions(opt.Samples, opt.Interval); err != nil {
		return nil, err
	}
	doc := &model.StackDoc{Schema: model.Schema, TakenAt: c.Now().UTC(), Threads: []model.StackThread{}, Warnings: []string{}}
	// The main thread is read while the safety checks run; the check before the signal
	// waits for it.
	type precheck struct {
		warning string
		err     error
	}
	pre := make(chan precheck, 1)
	go func() {
		w, err := stackPrecheck(ctx, c.FS, pid)
		pre <- precheck{w, err}
	}()
	var blockedWarning string
	opt.Check = func(p *model.Process, _ *model.EventLoop) error {
		r := <-pre
		blockedWarning = r.warning
		return r.err
	}
	s, err := c.OpenSession(ctx, pid, opt.SessionOptions)
	if err != nil {
		var se *session.SessionError
		if errors.As(err, &se) {
			doc.Attach = se.Attach
		}
		return doc, err
	}
	doc.Process = s.Process
	if blockedWarning != "" {
		doc.Warnings = append(doc.Warnings, blockedWarning)
	}
	st := jsstack.NewSampler(c.FS, s.Process, pid, opt.Samples, opt.Interval)
	// Workers first: a worker's life is often short, the main thread's is not.
	if opt.Workers {
		var workers []model.StackThread
		workers, err = st.DumpWorkers(ctx, s)
		doc.Threads = append(doc.Threads, workers...)
	}
	var main *model.StackThread
	if err == nil {
		main, err = st.DumpMain(ctx, s)
	}
	a := s.Close(ctx)
	doc.Attach = a
	doc.Warnings = append(s.Warnings(), doc.Warnings...)
	doc.Warnings = append(doc.Warnings, st.Warnings...)
	if main != nil {
		doc.Threads = append([]model.StackThread{*main}, doc.Threads...)
	}
	if err != nil {
		if errors.Is(err, jsstack.ErrExiting) || s.Exited() {
			return doc, fmt.Errorf("process %d exited during the dump (it waited for nodeinspect's session to leave, which it then did): %w", pid, model.ErrNoProcess)
		}
		if errors.Is(err, attach.ErrNoAnswer) {
			err = fmt.Errorf("%w (the main thread may have entered a system call or native code that holds it)", err)
		}
		return doc, &session.SessionError{Attach: a, Err: err}
	}
	return doc, nil
}

// stackPrecheck reads the main thread a few times before anything is sent. A thread that
// stays in one blocking system call (not epoll, not the futex of Atomics.wait, which V8's
// interrupt wakes) would never answer a pause, nor the dead-man's switch: refused. A
// thread on CPU the whole time is a loop blocked in JavaScript (or native code): the dump
// goes ahead, with a warning (the returned sentence).
//
// The 30 ms are read in slices of precheckSlice, and the check ends at the first slice that
// sees the thread waiting in epoll: such a thread answers the inspector (its loop turns),
// and that is the whole check's verdict too, so an idle process does not wait 30 ms.
func stackPrecheck(ctx context.Context, fs probes.FS, pid int) (string, error) {
	s := probes.LoopSamples{Counts: map[string]int{}}
	for s.Elapsed < precheckWindow && s.Counts["epoll"] == 0 {
		part, err := fs.SampleMainThread(ctx, pid, precheckSlice, 3*time.Millisecond)
		if err != nil {
			if probes.IsGone(err) {
				return "", fmt.Errorf("process %d exited before the attach: %w", pid, model.ErrNoProcess)
			}
			return "", nil // cannot tell: the pause's own time limit decides
		}
		s.Samples += part.Samples
		for what, n := range part.Counts {
			s.Counts[what] += n
		}
		// At least one slice's worth, so a sampler that reads nothing still ends.
		s.Elapsed += max(part.Elapsed, precheckSlice)
	}
	if s.Samples < 5 || s.Counts["epoll"] > 0 {
		return "", nil
	}
	if len(s.Counts) == 1 {
		for what, n := range s.Counts {
			if n != s.Samples {
				break
			}
			switch {
			case what == "running":
				return "the main thread was on CPU the whole time and never waited for events: its event loop is blocked (the stack shows where)", nil
			case what == "futex":
				return "", nil // Atomics.wait (V8's interrupt wakes it) or a lock: the pause's time limit decides
			case what == "stopped", what == "zombie", what == "dead":
				return "", nil // the safety checks and the session say so
			}
			return "", fmt.Errorf("%w: the main thread of process %d stayed in a blocking system call (%s) for the whole %s check: JavaScript pauses and the inspector's own messages are only answered when it returns, so nothing was sent (a synchronous call such as fs.readSync on a pipe, execSync or a native addon; `nodeinspect report %d` shows it)",
				model.ErrAttachRefused, pid, jsstack.SyscallState(what), s.Elapsed.Round(time.Millisecond), pid)
		}
	}
	return "", nil
}
