package answer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/jsstack"
	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// Where a loop blocked in JavaScript is stuck (report --attach).

// blockedStackSamples and blockedStackInterval are the pauses report --attach takes of
// a loop blocked in JavaScript: ten pauses 5 ms apart stop its JavaScript for well under
// a millisecond each and tell one hot function from a loop over several.
const (
	blockedStackSamples  = 10
	blockedStackInterval = 5 * time.Millisecond
)

// blockedOnCPU reports whether a blocked loop was on CPU (in JavaScript, or native code)
// in most of the samples and never in a system call other than a futex: V8's interrupt
// reaches such a thread, so it answers the inspector even though the loop never turns.
func BlockedOnCPU(l *model.EventLoop) bool {
	if l == nil || l.Verdict != "blocked" || l.Samples == 0 {
		return false
	}
	running := l.Seen["running"]
	if running*2 < l.Samples {
		return false
	}
	for what, n := range l.Seen {
		if n > 0 && what != "running" && what != "futex" {
			return false
		}
	}
	return true
}

// sampleBlockedStack pauses the main thread a few times on conn and records the stack it
// was found in most often. Every pause is resumed; the debugger is disabled again.
func (col *Into) SampleBlockedStack(ctx context.Context, conn *attach.Conn) {
	st := jsstack.NewSampler(col.FS, col.Snap.Process, col.PID, blockedStackSamples, blockedStackInterval)
	th := &model.StackThread{Thread: "main", Stacks: []model.StackSample{}}
	err := st.Sample(ctx, conn, th, func() string { return st.ThreadState(col.PID) })
	for _, w := range st.Warnings {
		col.Warn("event loop stack: %s", w)
	}
	if err != nil {
		col.Warn("event loop stack not taken: %v", err)
	}
	l := col.Snap.EventLoop
	if len(th.Stacks) == 0 || l == nil {
		if err == nil {
			col.Warn("event loop stack: none of %d pauses was answered (%s)", th.Samples, th.Note)
		}
		return
	}
	top := th.Stacks[0]
	l.Stack, l.StackCount, l.StackSamples = top.Frames, top.Count, th.Samples
	if len(top.Frames) > 0 {
		cwd, _ := os.Readlink(col.FS.PidPath(col.PID, "cwd"))
		l.BlockedIn = fmt.Sprintf("%s, %d of %d samples", shortFrame(model.AppFrame(top.Frames), cwd), top.Count, th.Samples)
	}
}

// shortFrame is "renderReport (src/report.js:42)": the path relative to the process's
// working directory when it is below it.
func shortFrame(f model.Frame, cwd string) string {
	u := f.URL
	if cwd != "" && filepath.IsAbs(u) {
		if rel, err := filepath.Rel(cwd, u); err == nil && !strings.HasPrefix(rel, "..") {
			u = rel
		}
	}
	return fmt.Sprintf("%s (%s:%d)", f.Function, u, f.Line)
}
