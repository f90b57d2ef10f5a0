package inspect

import (
	"context"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/inspectorsock"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/probes"
)

// Socket facts that take the sample window: the queues of TCP connections re-read at its
// end (STALLED_SOCKETS), and the inspector's socket found through the epoll instances.

// queueCandidates returns the inodes of the TCP connections of an fd table that had data in
// a queue when the table was joined, or nil when they are fewer than min: then
// STALLED_SOCKETS cannot fire and nothing needs re-reading.
func QueueCandidates(fds []model.FD, min int) map[uint64]bool {
	out := map[uint64]bool{}
	for _, fd := range fds {
		so := fd.Socket
		if so == nil || fd.Type != "tcp" || so.State == "LISTEN" || (rules.ReceivedData(probes.TCPQueue{State: so.State, RxQueue: so.RxQueue}) == 0 && so.TxQueue == 0) {
			continue
		}
		out[so.Inode] = true
	}
	if len(out) == 0 || len(out) < min {
		return nil
	}
	return out
}

// startQueueWindow reads, right after the fd join, the queues of the connections that had
// data waiting (with the sock_diag byte counters where available).
func (col *collection) startQueueWindow() {
	if col.Snap.FDs == nil {
		return
	}
	want := QueueCandidates(col.Snap.FDs.List, col.opt.Thresholds.StalledWarning)
	if want == nil {
		return
	}
	col.queueWant = want
	col.queueStart = col.c.FS.TCPQueuesByInode(col.PID, want, col.Warn)
	col.queueStartAt = time.Now()
}

// endQueueWindow reads the same connections again, a whole sample window after the first
// read (it waits for what is left of it: a connection must hold its data through the
// window to be called stalled).
func (col *collection) endQueueWindow(ctx context.Context) {
	if col.queueStart == nil {
		return
	}
	if rest := col.opt.Sample - time.Since(col.queueStartAt); rest > 0 {
		t := time.NewTimer(rest)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	end := col.c.FS.TCPQueuesByInode(col.PID, col.queueWant, col.Warn)
	col.queues = &rules.QueueWindow{Start: col.queueStart, End: end, Elapsed: time.Since(col.queueStartAt)}
}

// findInspector looks for the inspector's listening socket through the epoll instances
// when the command line or NODE_OPTIONS configures an inspector.
func (col *collection) findInspector() {
	p := col.Snap.Process
	if col.Snap.FDs == nil || p == nil || !p.IsNode {
		return
	}
	nodeOptions, _, _ := col.c.FS.ReadEnv(col.PID, "NODE_OPTIONS")
	cfg := inspectorsock.Settings(p.Cmdline, nodeOptions)
	inodes, err := inspectorsock.ByEpoll(col.c.FS, col.PID, col.Snap.FDs.List, cfg)
	if err != nil {
		col.Warn("inspector: only its configured ports were checked: %v", err)
		return
	}
	col.inspectorInodes = inodes
}

// addSocketFacts adds what the socket steps found to the rules' context.
func (col *collection) addSocketFacts(ctx *rules.EvalContext) {
	ctx.TCPQueues = col.queues
	ctx.InspectorInodes = col.inspectorInodes
}
