package ps

import (
	"context"
	"fmt"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// psSampleLoops is the event-loop step of PS: the main threads of the Node.js rows are
// sampled together in one window, and each row's snapshot gets its EventLoop (so the loop
// rules flag it). Warnings are summed up: a host full of other users' processes would
// otherwise say the same sentence once per process.
func psSampleLoops(ctx context.Context, c *inspect.Collector, rows []*psWork, window time.Duration, res *model.PSResult) {
	var pids []int
	for _, w := range rows {
		if w.snap.Process.IsNode {
			pids = append(pids, w.stat.PID)
		}
	}
	loops, warnings := c.SampleLoops(ctx, pids, window)
	unprivileged := 0
	for _, w := range rows {
		l := loops[w.stat.PID]
		if l == nil {
			continue
		}
		w.snap.EventLoop = l
		if l.Reason == "no_privilege" {
			unprivileged++
			continue
		}
		for _, msg := range warnings[w.stat.PID] {
			res.Warnings = append(res.Warnings, fmt.Sprintf("pid %d: %s", w.stat.PID, msg))
		}
	}
	if unprivileged > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("event loops of %d processes not judged (loop unknown): their main thread's system call can only be read with ptrace access; run nodeinspect as their user or with sudo", unprivileged))
	}
}
