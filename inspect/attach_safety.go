package inspect

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nodeinspect/nodeinspect/probes"
)

// sigusr1 is the signal that makes Node.js open its inspector (signal(7): 10 on x86-64 and
// arm64).
const sigusr1 = int(unix.SIGUSR1)

// checkAttachSafe refuses (ErrAttachRefused) a target that SIGUSR1 could kill: one that is
// not Node.js by its executable (a wrapper shell, or a process whose exe cannot be read),
// or whose SigCgt does not show SIGUSR1 caught (started with --disable-sigusr1, or still
// starting up before Node installed its handler). It reads status afresh: the snapshot's
// copy may be older than the loop sample.
func (col *collection) checkAttachSafe() error {
	fs, pid, p := col.c.FS, col.pid, col.snap.Process
	if !ownProcFS(fs) {
		// A fake tree, or a host's /proc mounted into a container: its pids are not the
		// ones a signal from here would reach.
		return fmt.Errorf("%w: %s is not this system's /proc as nodeinspect sees it (its pids may name other processes here), so nothing can be sent to process %d; run nodeinspect where the process runs, without --proc",
			ErrAttachRefused, fs.Root, pid)
	}
	isNode, err := fs.DetectNodeByExe(pid)
	if err != nil {
		if probes.IsGone(err) {
			return fmt.Errorf("process %d exited before the attach: %w", pid, ErrNoProcess)
		}
		return fmt.Errorf("%w: cannot read %s (%v), so nodeinspect cannot make sure process %d is Node.js and would survive SIGUSR1; run as the process's user or with sudo (in a container: CAP_SYS_PTRACE)",
			ErrAttachRefused, fs.PidPath(pid, "exe"), err, pid)
	}
	if !isNode {
		return fmt.Errorf("%w: process %d (%s) is not a Node.js executable (a wrapper shell or launcher?), and SIGUSR1 would kill it; attach to the node process itself (find it with `nodeinspect tree %d` or `nodeinspect ps`)",
			ErrAttachRefused, pid, p.Comm, pid)
	}
	status, err := fs.ReadStatus(pid)
	if err != nil {
		if probes.IsGone(err) {
			return fmt.Errorf("process %d exited before the attach: %w", pid, ErrNoProcess)
		}
		return fmt.Errorf("%w: cannot read %s to check that SIGUSR1 is handled: %v", ErrAttachRefused, fs.PidPath(pid, "status"), err)
	}
	if !status.Catches(sigusr1) {
		why := "it was started with --disable-sigusr1, or is still starting up"
		if status.Ignores(sigusr1) {
			why = "it ignores SIGUSR1"
		}
		return fmt.Errorf("%w: process %d does not handle SIGUSR1 (SigCgt %016x: %s), so the signal would not open its inspector and could kill it; start it with --inspect=127.0.0.1:0 to make it attachable, then retry",
			ErrAttachRefused, pid, status.SigCgt, why)
	}
	return nil
}

// signalIfSame sends sig to pid through a pidfd, after checking that the pidfd names the
// process this snapshot read (same start time): a pid reused in between gets nothing.
func (col *collection) signalIfSame(sig int) error {
	pidfd, err := unix.PidfdOpen(col.pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("process %d exited before the attach: %w", col.pid, ErrNoProcess)
		}
		return col.killIfSame(sig, err)
	}
	defer unix.Close(pidfd)
	// The pidfd pins the process: if stat still shows the start time read first, the
	// signal goes to that process even if it exits and its pid is reused right after.
	if err := col.sameProcess(); err != nil {
		return err
	}
	if err := unix.PidfdSendSignal(pidfd, unix.Signal(sig), nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("process %d exited before the attach: %w", col.pid, ErrNoProcess)
		}
		return fmt.Errorf("send SIGUSR1 to process %d: %w", col.pid, err)
	}
	return nil
}

// killIfSame is the fallback for kernels without pidfd_open (before 5.3): check the start
// time, then kill(2); the window between the two is a few microseconds.
func (col *collection) killIfSame(sig int, pidfdErr error) error {
	if !errors.Is(pidfdErr, unix.ENOSYS) {
		return fmt.Errorf("open a pidfd for process %d: %w", col.pid, pidfdErr)
	}
	if err := col.sameProcess(); err != nil {
		return err
	}
	if err := unix.Kill(col.pid, unix.Signal(sig)); err != nil {
		return fmt.Errorf("send SIGUSR1 to process %d: %w", col.pid, err)
	}
	return nil
}

// sameProcess checks that pid still names the process first read.
func (col *collection) sameProcess() error {
	st, err := col.c.FS.ReadStat(col.pid)
	if err != nil {
		if probes.IsGone(err) {
			return fmt.Errorf("process %d exited before the attach: %w", col.pid, ErrNoProcess)
		}
		return fmt.Errorf("re-read %s: %w", col.c.FS.PidPath(col.pid, "stat"), err)
	}
	if st.StartTicks != col.stat.StartTicks {
		return &PidReusedError{PID: col.pid, StartTicks: col.stat.StartTicks, NowTicks: st.StartTicks}
	}
	return nil
}

// dialAddr turns a listening address into one to connect to: a wildcard bind is reached
// on the loopback of the same family.
func dialAddr(local string) string {
	switch {
	case strings.HasPrefix(local, "0.0.0.0:"):
		return "127.0.0.1:" + strings.TrimPrefix(local, "0.0.0.0:")
	case strings.HasPrefix(local, "[::]:"):
		return "[::1]:" + strings.TrimPrefix(local, "[::]:")
	}
	return local
}

// ownProcFS reports whether fs is the procfs of our own pid namespace: its "self" link
// names our pid. Only then does a pid read there name the process a signal reaches.
func ownProcFS(fs probes.FS) bool {
	self, err := os.Readlink(fs.Path("self"))
	return err == nil && self == strconv.Itoa(os.Getpid())
}
