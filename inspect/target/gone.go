// Package target answers two questions about the target process between reads: is it gone
// (CheckGone, the one predicate: exited and reaped, a zombie, dead, exiting, or its pid
// reused), and is it held (HeldReason: stopped, traced or frozen, so an inspector opened
// in it would open only when it runs again). It reads /proc only and sends no signal.
package target

import (
	"fmt"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/probes"
)

// CheckGone is the one answer to "is the process gone?". It takes what reading pid's stat
// returned now (st, readErr) and the start time the process had when it was first read
// (startTicks; 0 when none is known) and returns nil while pid still names that process,
// or an error wrapping ErrNoProcess when it is gone:
//
//   - its /proc directory is missing (or stat reads ESRCH): it exited and was reaped;
//   - pid now names a process started at another time: *PidReusedError;
//   - its state is Z (a zombie waiting for its parent), X (dead) or it is inside do_exit()
//     (probes.Stat.Exited).
//
// A stat that cannot be read for another reason (permission) is no evidence that the
// process is gone: nil. while words when it was found gone ("while being read").
func CheckGone(pid int, st probes.Stat, readErr error, startTicks uint64, while string) error {
	if while != "" {
		while = " " + while
	}
	switch {
	case readErr != nil && probes.IsGone(readErr):
		return fmt.Errorf("process %d exited%s: %w", pid, while, model.ErrNoProcess)
	case readErr != nil:
		return nil
	case startTicks != 0 && st.StartTicks != startTicks:
		return &model.PidReusedError{PID: pid, StartTicks: startTicks, NowTicks: st.StartTicks}
	case st.Exited():
		return fmt.Errorf("process %d exited%s (%s): %w", pid, while, exitedHow(st), model.ErrNoProcess)
	}
	return nil
}

// GoneNow reads pid's stat and applies checkGone.
func GoneNow(fs probes.FS, pid int, startTicks uint64, while string) error {
	st, err := fs.ReadStat(pid)
	return CheckGone(pid, st, err, startTicks, while)
}

// exitedHow words the state of a process whose stat shows it exited (probes.Stat.Exited).
func exitedHow(st probes.Stat) string {
	switch st.State {
	case "Z":
		return "it is a zombie its parent has not reaped"
	case "X":
		return "it is dead"
	}
	return "it is exiting"
}
