package session

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/answer"
	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/heaplimit"
	"github.com/nodeinspect/nodeinspect/inspect/model"
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
	// nodeOptions is the target's NODE_OPTIONS, read once (nil until then).
	nodeOptions *string
	// delayEvery is the watch's interval when MeasureDelay asked for the event loop's
	// delay; delayFrom is when the monitor now in the target was started (zero: none),
	// and delay what the last read measured.
	delayEvery time.Duration
	delayFrom  time.Time
	delay      *model.LoopDelay
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
func (h *HeapSession) Delay() *model.LoopDelay {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.delay
}

// readDelay reads the monitor started by the previous read and starts the next one.
func (h *HeapSession) readDelay(ctx context.Context, conn *attach.Conn, restart bool) {
	h.delay = nil
	if !h.delayFrom.IsZero() {
		if d, err := attach.ReadDelay(ctx, conn); err == nil {
			h.delay = answer.LoopDelay(d, time.Since(h.delayFrom))
		}
		h.delayFrom = time.Time{}
	}
	if restart && attach.StartDelay(ctx, conn, (2*h.delayEvery+answer.DelayLeftFor).Milliseconds()) == nil {
		h.delayFrom = time.Now()
	}
}

// FillSample asks the process for its V8 heap and sets the heap fields of the sample:
// heap used and limit, and the old generation's used bytes and limit (from the target's
// heap spaces and node options, as report --attach does). On an error the sample is left
// as it was. After a timeout (the loop stalled) the process is not asked again: every
// later call returns the first error at once, so a stalled target never slows the watch.
func (h *HeapSession) FillSample(ctx context.Context, s *model.Sample) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.broken != nil {
		return h.broken
	}
	if h.closed {
		return fmt.Errorf("inspector session closed")
	}
	step, cancel := context.WithTimeout(ctx, h.run.timeout)
	defer cancel()
	r, err := h.read(step)
	if err != nil {
		if ctx.Err() == nil {
			h.broken = fmt.Errorf("heap not read (the inspector stopped answering: %w); later samples have no heap", err)
			return h.broken
		}
		return err
	}
	heap := &model.Heap{UsedBytes: ptr(r.Used), LimitBytes: ptr(r.Limit), OldSpaceUsedBytes: answer.OldSpaceUsedOfAttach(r.Spaces)}
	args := r.ExecArgv
	if args == nil && h.run.col.Snap.Process != nil {
		args = heaplimit.NodeOptionsOf(h.run.col.Snap.Process.Cmdline)
	}
	if h.nodeOptions == nil {
		opts := h.run.col.nodeOptions()
		h.nodeOptions = &opts
	}
	heaplimit.SetOldSpaceLimit(heap, args, *h.nodeOptions)
	s.HeapUsedBytes, s.HeapLimitBytes = heap.UsedBytes, heap.LimitBytes
	s.OldSpaceUsedBytes, s.OldSpaceLimitBytes = heap.OldSpaceUsedBytes, heap.OldSpaceLimitBytes
	return nil
}

// read opens a session, re-arms the dead-man's switch when nodeinspect opened the
// inspector, asks for the heap and closes the session.
func (h *HeapSession) read(ctx context.Context) (*attach.HeapReading, error) {
	r := h.run
	target, err := attach.ListTargets(ctx, h.addr, r.dial)
	if err != nil {
		return nil, err
	}
	conn, err := r.dialSession(ctx, target.WebSocketURL)
	if err != nil {
		return nil, err
	}
	defer r.hangUp(conn)
	if r.opened != 0 {
		if err := attach.ArmDeadman(ctx, conn, r.col.deadman().Milliseconds(), model.PortOf(h.addr)); err != nil {
			return nil, err
		}
	}
	reading, err := attach.ReadHeap(ctx, conn)
	if err == nil && h.delayEvery > 0 {
		h.readDelay(ctx, conn, true)
	}
	return reading, err
}

// WarnTo sends the warnings of the session's later work (the reads, the cleanup of Close) to
// sink: the snapshot CollectAttached returned with the session was printed already, and a
// warning appended to it would never reach the user.
func (h *HeapSession) WarnTo(sink *WarningSink) {
	col := h.run.col
	col.Lock()
	col.sink = sink
	col.Unlock()
}

// Close queues the inspector's close when nodeinspect opened it and waits for its port to
// go, with its own time limit (ctx may be cancelled by Ctrl-C). It returns the attach
// record with Closed and LeftOpen set. Closing twice is harmless.
func (h *HeapSession) Close(ctx context.Context) *model.Attach {
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
			if conn, err := r.dialSession(step, target.WebSocketURL); err == nil {
				h.readDelay(step, conn, false)
				r.hangUp(conn)
			}
		}
		cancel()
	}
	r.cleanup(ctx)
	return r.a
}
