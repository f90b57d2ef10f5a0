package inspect

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
)

// HeapSession reads the V8 heap at each sample of a watch through the inspector the
// attach found or opened. It keeps no session connected between samples: each read opens
// one, re-arms the dead-man's switch (when nodeinspect opened the inspector), asks, and
// leaves at once. So a target that wants to exit (a drained server, process.exit, a SIGTERM
// handler) is never held in "Waiting for the debugger to disconnect..." by the watch.
// Close undoes what the attach did.
type HeapSession struct {
	run    *attachRun
	addr   string
	mu     sync.Mutex
	broken error
	closed bool
	// delayEvery is the watch's interval when MeasureDelay asked for the event loop's
	// delay; delayFrom is when the monitor now in the target was started (zero: none),
	// and delay what the last read measured.
	delayEvery time.Duration
	delayFrom  time.Time
	delay      *LoopDelay
}

// MeasureDelay makes every Heap read also measure the event loop's delay since the
// previous read (attach.StartDelay/ReadDelay): the monitor stays in the target between two
// reads, removes itself if no read comes within two intervals and 10 s, and Close removes it.
func (h *HeapSession) MeasureDelay(every time.Duration) {
	h.mu.Lock()
	h.delayEvery = every
	h.mu.Unlock()
}

// Delay is the event loop's delay measured between the last two Heap reads (nil before
// the second read, or when it could not be measured).
func (h *HeapSession) Delay() *LoopDelay {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.delay
}

// readDelay reads the monitor started by the previous read and starts the next one.
func (h *HeapSession) readDelay(ctx context.Context, conn *attach.Conn, restart bool) {
	h.delay = nil
	if !h.delayFrom.IsZero() {
		if d, err := attach.ReadDelay(ctx, conn); err == nil {
			h.delay = loopDelay(d, time.Since(h.delayFrom))
		}
		h.delayFrom = time.Time{}
	}
	if restart && attach.StartDelay(ctx, conn, (2*h.delayEvery+delayLeftFor).Milliseconds()) == nil {
		h.delayFrom = time.Now()
	}
}

// Heap asks the process for its V8 heap used and limit. After a timeout (the loop stalled)
// the process is not asked again: every later call returns the first error at once, so a
// stalled target never slows the watch.
func (h *HeapSession) Heap(ctx context.Context) (used, limit uint64, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.broken != nil {
		return 0, 0, h.broken
	}
	if h.closed {
		return 0, 0, fmt.Errorf("inspector session closed")
	}
	r := h.run
	step, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	used, limit, err = h.read(step, r)
	if err != nil && ctx.Err() == nil {
		h.broken = fmt.Errorf("heap not read (the inspector stopped answering: %w); later samples have no heap", err)
		return 0, 0, h.broken
	}
	return used, limit, err
}

// read opens a session, asks for the heap and closes the session.
func (h *HeapSession) read(ctx context.Context, r *attachRun) (used, limit uint64, err error) {
	target, err := attach.ListTargets(ctx, h.addr, r.dial)
	if err != nil {
		return 0, 0, err
	}
	conn, err := attach.Dial(ctx, target.WebSocketURL, r.dial)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	if r.opened != 0 {
		if err := attach.ArmDeadman(ctx, conn, r.col.deadman().Milliseconds()); err != nil {
			return 0, 0, err
		}
	}
	used, limit, err = attach.HeapUsage(ctx, conn)
	if err == nil && h.delayEvery > 0 {
		h.readDelay(ctx, conn, true)
	}
	return used, limit, err
}

// Close queues the inspector's close when nodeinspect opened it and waits for its port to
// go, with its own time limit (ctx may be cancelled by Ctrl-C). It returns the attach
// record with Closed and LeftOpen set. Closing twice is harmless.
func (h *HeapSession) Close(ctx context.Context) *Attach {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.run
	if h.closed {
		return r.a
	}
	h.closed = true
	if !h.delayFrom.IsZero() {
		// Remove the delay monitor the last read started.
		step, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		if target, err := attach.ListTargets(step, h.addr, r.dial); err == nil {
			if conn, err := attach.Dial(step, target.WebSocketURL, r.dial); err == nil {
				h.readDelay(step, conn, false)
				conn.Close()
			}
		}
		cancel()
	}
	r.cleanup(ctx)
	return r.a
}
