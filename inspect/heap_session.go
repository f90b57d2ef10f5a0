package inspect

import (
	"context"
	"fmt"
	"sync"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
)

// HeapSession is an inspector session kept open across the samples of a watch: each
// sample asks for the V8 heap in one small evaluation instead of opening and closing the
// inspector every time. Close undoes what the attach did.
type HeapSession struct {
	run    *attachRun
	conn   *attach.Conn
	mu     sync.Mutex
	broken error
	closed bool
	// nodeOptions is the target's NODE_OPTIONS, read once (nil until then).
	nodeOptions *string
}

// Heap asks the process for its V8 heap used and limit. After a timeout (the loop stalled)
// the session is not asked again: every later call returns the first error at once, so a
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
	step, cancel := context.WithTimeout(ctx, h.run.timeout)
	defer cancel()
	used, limit, err = attach.HeapUsage(step, h.conn)
	if err != nil && ctx.Err() == nil {
		h.broken = fmt.Errorf("heap not read (the session stopped answering: %w); later samples have no heap", err)
		return 0, 0, h.broken
	}
	return used, limit, err
}

// FillSample asks the process for its V8 heap and sets the heap fields of the sample:
// heap used and limit, and the old generation's used bytes and limit (from the target's
// heap spaces and node options, as report --attach does). On an error the sample is left
// as it was; after a timeout the session is broken, as for Heap.
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
	r, err := attach.ReadHeap(step, h.conn)
	if err != nil {
		if ctx.Err() == nil {
			h.broken = fmt.Errorf("heap not read (the session stopped answering: %w); later samples have no heap", err)
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

// Close queues the inspector's close when nodeinspect opened it, ends the session and
// waits for the inspector's port to go, with its own time limit (ctx may be cancelled by
// Ctrl-C). It returns the attach record with Closed and LeftOpen set. Closing twice is
// harmless.
func (h *HeapSession) Close(ctx context.Context) *Attach {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.run
	if h.closed {
		return r.a
	}
	h.closed = true
	if r.opened != 0 {
		clean, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		sent, err := attach.ScheduleClose(clean, h.conn)
		cancel()
		r.queuedClose = sent
		if err != nil && !sent {
			r.col.warn("attach: could not ask the process to close the inspector it opened: %v", err)
		}
	}
	h.conn.Close()
	r.cleanup(ctx)
	return r.a
}
