package ps

import (
	"context"
	"fmt"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/inspectorsock"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/probes"
)

// psWindow is the window PS watches every process through at once: what was read at its
// start, by network namespace, to be read again at its end.
type psWindow struct {
	start time.Time
	// byNS lists, per namespace, the processes with something to re-read.
	byNS map[string][]*psWork
}

// openPSWindow starts the window right after the fd join: for each process, the queues of
// its TCP connections with data waiting (one sock_diag or /proc read per namespace for
// all of them) and the inspector configuration, with a first look for the inspector's
// socket through the epoll instances. Nil when no process has anything to watch.
func openPSWindow(c *inspect.Collector, rows []*psWork, opt Options, res *model.PSResult) *psWindow {
	warn := func(format string, args ...any) { res.Warnings = append(res.Warnings, fmt.Sprintf(format, args...)) }
	win := &psWindow{start: time.Now(), byNS: map[string][]*psWork{}}
	for _, w := range rows {
		if w.snap.FDs == nil || w.snap.FDs.List == nil {
			continue
		}
		if w.snap.Process.IsNode {
			nodeOptions, _, _ := c.FS.ReadEnv(w.stat.PID, "NODE_OPTIONS")
			w.inspector = inspectorsock.Settings(w.row.Cmdline, nodeOptions)
			w.inspectorInodes = psInspector(c, w)
		}
		if opt.Sample <= 0 {
			continue
		}
		w.queueWant = inspect.QueueCandidates(w.snap.FDs.List, opt.Thresholds.StalledWarning)
		waiting := false
		for _, l := range w.listeners {
			waiting = waiting || l.RxQueue > 0
		}
		if w.queueWant != nil || waiting {
			win.byNS[w.netns] = append(win.byNS[w.netns], w)
		}
	}
	if len(win.byNS) == 0 {
		return nil
	}
	for _, group := range win.byNS {
		want := map[uint64]bool{}
		for _, w := range group {
			for ino := range w.queueWant {
				want[ino] = true
			}
		}
		if len(want) == 0 {
			continue
		}
		start := c.FS.TCPQueuesByInode(group[0].stat.PID, want, warn)
		for _, w := range group {
			if w.queueWant != nil {
				w.queueStart = start
			}
		}
	}
	win.start = time.Now()
	return win
}

// closePSWindow waits for the end of the window and reads again what openPSWindow read:
// the connection queues and the accept queues of the listeners that had connections
// waiting, once per namespace.
func closePSWindow(ctx context.Context, c *inspect.Collector, win *psWindow, opt Options, res *model.PSResult) {
	if win == nil {
		return
	}
	warn := func(format string, args ...any) { res.Warnings = append(res.Warnings, fmt.Sprintf(format, args...)) }
	if rest := opt.Sample - time.Since(win.start); rest > 0 {
		t := time.NewTimer(rest)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	for _, group := range win.byNS {
		pid := group[0].stat.PID
		want := map[uint64]bool{}
		listening := false
		for _, w := range group {
			for ino := range w.queueWant {
				want[ino] = true
			}
			for _, l := range w.listeners {
				listening = listening || l.RxQueue > 0
			}
		}
		var end map[uint64]probes.TCPQueue
		if len(want) > 0 {
			end = c.FS.TCPQueuesByInode(pid, want, warn)
		}
		var listen []probes.Socket
		if listening {
			var err error
			if listen, err = c.FS.ReadListeningTCP(pid); err != nil {
				warn("listening sockets (re-read): %v", err)
			}
		}
		elapsed := time.Since(win.start)
		for _, w := range group {
			if w.queueStart != nil {
				w.queues = &rules.QueueWindow{Start: w.queueStart, End: end, Elapsed: elapsed}
			}
			for _, l := range listen {
				if prev, ok := w.listeners[l.Inode]; ok && prev.RxQueue > 0 {
					if w.listenAfter == nil {
						w.listenAfter = map[uint64]uint64{}
					}
					w.listenAfter[l.Inode] = l.RxQueue
				}
			}
		}
	}
}

// psInspector looks for the inspector's socket through the epoll instances, once: ps does
// not wait for a busy main thread to be seen in epoll (report does), so a process whose
// loop is busy at that moment is judged by its configured ports alone.
func psInspector(c *inspect.Collector, w *psWork) map[uint64]bool {
	inodes, err := inspectorsock.ByEpollTries(c.FS, w.stat.PID, w.snap.FDs.List, w.inspector, 1)
	w.inspectorRetry = err != nil
	return inodes
}

// retryPSInspector looks once more, after the window, for the inspector of the processes
// whose main thread was not in epoll at the first look.
func retryPSInspector(c *inspect.Collector, rows []*psWork) {
	for _, w := range rows {
		if w.inspectorRetry {
			w.inspectorInodes, _ = inspectorsock.ByEpollTries(c.FS, w.stat.PID, w.snap.FDs.List, w.inspector, 1)
		}
	}
}

// evalContext is what the rules need for one process of ps.
func (w *psWork) evalContext(th rules.Thresholds) rules.EvalContext {
	ctx := rules.EvalContext{Thresholds: th, ListenQueueAfter: w.listenAfter, Backlogs: map[uint64]uint64{},
		InspectorInodes: w.inspectorInodes, TCPQueues: w.queues}
	for ino, l := range w.listeners {
		if l.Backlog > 0 {
			ctx.Backlogs[ino] = l.Backlog
		}
	}
	if w.snap.Process.IsNode {
		ctx.InspectorPorts = w.inspector.Ports
		if ctx.InspectorPorts == nil {
			ctx.InspectorPorts = inspectorsock.Ports(w.row.Cmdline, "")
		}
	}
	return ctx
}
