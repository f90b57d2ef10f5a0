package inspect

import (
	"fmt"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/probes"
)

// ResolveThread maps a thread id to the process it belongs to: /proc/<tid> exists for
// every thread (not listed, but readable), and its status names the thread group (Tgid).
// It returns pid unchanged, and note empty, when pid is a process (or cannot be read: the
// collection that follows says why).
func (c *Collector) ResolveThread(pid int) (tgid int, note string) {
	st, err := c.FS.ReadStatus(pid)
	if err != nil || st.Tgid <= 0 || st.Tgid == pid {
		return pid, ""
	}
	return st.Tgid, fmt.Sprintf("%d is a thread of process %d (Tgid in %s): inspecting process %d", pid, st.Tgid, c.FS.PidPath(pid, "status"), st.Tgid)
}

// exitedError is the error for a process that has exited but is still listed (a zombie
// its parent has not reaped, or dead): there is nothing left to inspect.
func exitedError(pid int, st probes.Stat) error {
	what := "a zombie"
	if st.State == "X" {
		what = "dead"
	}
	return fmt.Errorf("process %d (%s) has exited (%s, waiting for its parent %d to reap it): %w", pid, st.Comm, what, st.PPID, model.ErrNoProcess)
}
