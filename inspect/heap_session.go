package inspect

import (
	"context"
	"fmt"
	"sync"

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
	// nodeOptions is the target's NODE_OPTIONS, read once (nil until then).
	nodeOptions *string
}

// FillSample asks the process for its V8 heap and sets the heap fields of the sample:
// heap used and limit, and the old generation's used bytes and limit (from the target's
// heap spaces and node options, as report --attach does). On an error the sample is left
// as it was. After a timeout (the loop stalled) the process is not asked again: every
// later call returns the first error at once, so a stalled target never slows the watch.
func (h *HeapSession) FillSample(ctx context.Context, s *Sample) error {
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
	heap := &Heap{UsedBytes: ptr(r.Used), LimitBytes: ptr(r.Limit), OldSpaceUsedBytes: oldSpaceUsedOfAttach(r.Spaces)}
	args := r.ExecArgv
	if args == nil && h.run.col.snap.Process != nil {
		args = nodeOptionsOf(h.run.col.snap.Process.Cmdline)
	}
	if h.nodeOptions == nil {
		opts := h.run.col.nodeOptions()
		h.nodeOptions = &opts
	}
	heap.setOldSpaceLimit(args, *h.nodeOptions)
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
	conn, err := attach.Dial(ctx, target.WebSocketURL, r.dial)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if r.opened != 0 {
		if err := attach.ArmDeadman(ctx, conn, r.col.deadman().Milliseconds(), portOf(h.addr)); err != nil {
			return nil, err
		}
	}
	return attach.ReadHeap(ctx, conn)
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
	r.cleanup(ctx)
	return r.a
}
