package session

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/answer"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/target"
	"github.com/nodeinspect/nodeinspect/probes"
)

// Target is what an attach knows of its process: what the collection read of it,
// the snapshot being filled, where warnings go, and the session kept open.
type Target struct {
	// FS is the proc root the process is read from; PID and Stat are its id and the stat
	// read first (its start time tells a reused pid).
	FS   probes.FS
	PID  int
	Stat probes.Stat
	// Snap is the snapshot being filled: the attach adds to Attach, Memory, FDs and
	// EventLoop.
	Snap *model.Snapshot
	Opt  Options
	// Gone is set when a probe saw the process vanish.
	Gone bool
	// KeepSession asks attach to keep its inspector session open (CollectAttached), and
	// Heap is that session once open.
	KeepSession bool
	Heap        *HeapSession
	// sink, once set (HeapSession.WarnTo), takes the warnings that come after the
	// snapshot was handed out.
	sink *WarningSink
	// Mutex guards Snap and Gone while the loop is sampled beside the other reads.
	sync.Mutex
}

// Options are the Options an attach reads.
type Options struct {
	// AttachTimeout is the time limit of each attach step (DefaultAttachTimeout when 0).
	AttachTimeout time.Duration
	// CloserBound and Deadman: see Options.
	CloserBound, Deadman time.Duration
	// AllowSIGUSR1Users attaches to a process known to use SIGUSR1 itself (pm2).
	AllowSIGUSR1Users bool
	// Sample is the loop sample's window, which bounds the delay measured after the query.
	Sample time.Duration
}

// warn adds a warning to the snapshot, or to the sink once the snapshot was handed out.
func (col *Target) Warn(format string, args ...any) {
	col.Lock()
	defer col.Unlock()
	if col.sink != nil {
		// The snapshot was handed out (and printed): later warnings go to the sink.
		col.sink.Add(format, args...)
		return
	}
	msg := fmt.Sprintf(format, args...)
	if !slices.Contains(col.Snap.Warnings, msg) {
		// The same note from two reads (a fallback taken at both ends of the window) once.
		col.Snap.Warnings = append(col.Snap.Warnings, msg)
	}
}

// exitedSince reports whether the process is gone, a zombie (it exited and waits for its
// parent), or replaced by another with the same pid.
func (col *Target) ExitedSince() bool {
	return col.Gone || target.GoneNow(col.FS, col.PID, col.Stat.StartTicks, "") != nil
}

// into is where the process's answers go: this target's snapshot and warnings.
func (col *Target) into() *answer.Into {
	return &answer.Into{FS: col.FS, PID: col.PID, Snap: col.Snap, Warn: col.Warn, Sample: col.Opt.Sample, NodeOptions: col.nodeOptions}
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
