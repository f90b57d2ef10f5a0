package session

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/target"
	"github.com/nodeinspect/nodeinspect/probes"
)

// sigusr1 is the signal that makes Node.js open its inspector (signal(7): 10 on x86-64 and
// arm64).
const sigusr1 = int(unix.SIGUSR1)

// inspectorFDs is how many free fds the target needs for SIGUSR1 to open its inspector
// and nodeinspect to use it: measured on Node 20, opening the inspector takes 6 fds (its
// thread's loop, wake-up pipes, the listening socket) and each session or HTTP request
// one more; twice what one attach uses (6 + a session + a /json/list request), rounded up.
// A Node.js process with fewer free fds dies on SIGUSR1 (Assertion failed: (err) == (0),
// exit 134, seen at 0-3 free under ulimit -n 256).
const inspectorFDs = 16

// checkAttachSafe refuses (ErrAttachRefused) a target that SIGUSR1 could harm or where it
// would go to the wrong process: not this system's /proc; not Node.js by a marker in its
// executable (not its name: a renamed node is Node.js, a script named node is not); a
// launcher (npm, npx, yarn, pnpm) whose app runs below it; SIGUSR1 not caught (started
// with --disable-sigusr1, or still starting up); a process known to use SIGUSR1 itself
// (pm2); too few free fds for the inspector; stopped, traced or frozen. It reads status
// afresh: the snapshot's copy may be older than the loop sample.
func (col *Target) checkAttachSafe() error {
	fs, pid, p := col.FS, col.PID, col.Snap.Process
	if !fs.IsOwn() {
		// A fake tree, or a host's /proc mounted into a container: its pids are not the
		// ones a signal from here would reach.
		return fmt.Errorf("%w: %s is not this system's /proc as nodeinspect sees it (its pids may name other processes here), so nothing can be sent to process %d; run nodeinspect where the process runs, without --proc",
			model.ErrAttachRefused, fs.Root, pid)
	}
	if err := checkNodeBinary(fs, pid, p.Comm); err != nil {
		return err
	}
	if err := col.checkLauncher(); err != nil {
		return err
	}
	status, err := fs.ReadStatus(pid)
	if err != nil {
		if probes.IsGone(err) {
			return fmt.Errorf("process %d exited before the attach: %w", pid, model.ErrNoProcess)
		}
		return fmt.Errorf("%w: cannot read %s to check that SIGUSR1 is handled: %v", model.ErrAttachRefused, fs.PidPath(pid, "status"), err)
	}
	if !status.Catches(sigusr1) {
		why := "it was started with --disable-sigusr1, or is still starting up"
		if status.Ignores(sigusr1) {
			why = "it ignores SIGUSR1"
		}
		return fmt.Errorf("%w: process %d does not handle SIGUSR1 (SigCgt %016x: %s), so the signal would not open its inspector and could kill it; start it with --inspect=127.0.0.1:0 to make it attachable, then retry",
			model.ErrAttachRefused, pid, status.SigCgt, why)
	}
	if !col.Opt.AllowSIGUSR1Users {
		if who := sigusr1User(fs, pid); who != "" {
			return fmt.Errorf("%w: process %d is %s, which may use SIGUSR1 itself: the signal would run that handler, not open the inspector; nothing was sent (pass --allow-sigusr1-users to send it anyway, or start the app with --inspect=127.0.0.1:0)",
				model.ErrAttachRefused, pid, who)
		}
	}
	if err := checkFDHeadroom(fs, pid); err != nil {
		return err
	}
	if why, err := target.HeldReason(fs, pid); err == nil && why != "" {
		return fmt.Errorf("%w: process %d is %s: its inspector would open only once it runs again, after nodeinspect has gone; nothing was sent (attach once it runs)", model.ErrAttachRefused, pid, why)
	}
	return nil
}

// checkNodeBinary refuses a process whose executable carries no Node.js marker.
func checkNodeBinary(fs probes.FS, pid int, comm string) error {
	ok, err := target.IsNodeBinary(fs, pid)
	if err != nil {
		if probes.IsGone(err) {
			return fmt.Errorf("process %d exited before the attach: %w", pid, model.ErrNoProcess)
		}
		return fmt.Errorf("%w: cannot read %s (%v), so nodeinspect cannot make sure process %d is Node.js and would survive SIGUSR1; run as the process's user or with sudo",
			model.ErrAttachRefused, fs.PidPath(pid, "exe"), err, pid)
	}
	if ok {
		return nil
	}
	below := ""
	if app, cmd := target.NodeBelow(fs, pid); app != 0 {
		below = fmt.Sprintf("; the Node.js process below it is pid %d (%s): attach to that one", app, cmd)
	}
	return fmt.Errorf("%w: process %d (%s) is not a Node.js executable (no Node.js/V8 marker in its binary: a wrapper shell, a launcher, or another program named node), and SIGUSR1 would kill it or run its own handler%s (find it with `nodeinspect tree %d` or `nodeinspect ps`)",
		model.ErrAttachRefused, pid, comm, below, pid)
}

// checkFDHeadroom refuses a process with fewer than inspectorFDs free fds.
func checkFDHeadroom(fs probes.FS, pid int) error {
	lim, err := fs.ReadLimits(pid)
	if err != nil {
		return fmt.Errorf("%w: cannot read %s to check that the inspector has fds to open with: %v", model.ErrAttachRefused, fs.PidPath(pid, "limits"), err)
	}
	soft, _, ok := lim.OpenFiles()
	if !ok || soft == nil {
		return nil // unlimited
	}
	n, ok, err := fs.CountFDs(pid)
	if err != nil || !ok {
		entries, _, rerr := fs.ReadFDs(pid)
		if rerr != nil {
			return fmt.Errorf("%w: cannot count the open fds of process %d to check that the inspector has fds to open with: %v", model.ErrAttachRefused, pid, rerr)
		}
		n = len(entries)
	}
	if free := int64(*soft) - int64(n); free < inspectorFDs {
		return fmt.Errorf("%w: process %d has %d of %d fds open, %d free: opening the inspector needs about %d and a Node.js process that runs out while opening it dies (an assertion); nothing was sent (raise its limit, or attach once it holds fewer fds)",
			model.ErrAttachRefused, pid, n, *soft, max(free, 0), inspectorFDs)
	}
	return nil
}

// sigusr1User names a process manager known to use SIGUSR1 in the process it runs ("" when
// none is recognised): pm2 sets pm_id and PM2_HOME in the environment of its apps.
func sigusr1User(fs probes.FS, pid int) string {
	for _, key := range []string{"pm_id", "PM2_HOME", "PM2_USAGE"} {
		if v, ok, _ := fs.ReadEnv(pid, key); ok {
			return fmt.Sprintf("managed by pm2 (%s=%s in its environment)", key, v)
		}
	}
	return ""
}

// signalIfSame sends sig to pid through a pidfd, after checking that the pidfd names the
// process this snapshot read (same start time): a pid reused in between gets nothing.
func (col *Target) signalIfSame(sig int) error {
	pidfd, err := unix.PidfdOpen(col.PID, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("process %d exited before the attach: %w", col.PID, model.ErrNoProcess)
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
			return fmt.Errorf("process %d exited before the attach: %w", col.PID, model.ErrNoProcess)
		}
		return fmt.Errorf("send SIGUSR1 to process %d: %w", col.PID, err)
	}
	return nil
}

// killIfSame is the fallback for kernels without pidfd_open (before 5.3): check the start
// time, then kill(2); the window between the two is a few microseconds.
func (col *Target) killIfSame(sig int, pidfdErr error) error {
	if !errors.Is(pidfdErr, unix.ENOSYS) {
		return fmt.Errorf("open a pidfd for process %d: %w", col.PID, pidfdErr)
	}
	if err := col.sameProcess(); err != nil {
		return err
	}
	if err := unix.Kill(col.PID, unix.Signal(sig)); err != nil {
		return fmt.Errorf("send SIGUSR1 to process %d: %w", col.PID, err)
	}
	return nil
}

// sameProcess checks that pid still names the process first read.
func (col *Target) sameProcess() error {
	st, err := col.FS.ReadStat(col.PID)
	if err != nil {
		if probes.IsGone(err) {
			return fmt.Errorf("process %d exited before the attach: %w", col.PID, model.ErrNoProcess)
		}
		return fmt.Errorf("re-read %s: %w", col.FS.PidPath(col.PID, "stat"), err)
	}
	if st.StartTicks != col.Stat.StartTicks {
		return &model.PidReusedError{PID: col.PID, StartTicks: col.Stat.StartTicks, NowTicks: st.StartTicks}
	}
	return nil
}

// checkLauncher refuses a launcher: SIGUSR1 would open npm's inspector, not the app's.
func (col *Target) checkLauncher() error {
	name := target.LauncherName(col.Snap.Process.Cmdline)
	if name == "" {
		return nil
	}
	below := "no Node.js app runs below it yet"
	if app, cmd := target.NodeBelow(col.FS, col.PID); app != 0 {
		below = fmt.Sprintf("the Node.js app below it is pid %d (%s): attach to it with `nodeinspect report %d --attach`, or add --follow", app, cmd, app)
	}
	return fmt.Errorf("%w: process %d is %s, a launcher, not your app; %s; nothing was sent", model.ErrAttachRefused, col.PID, name, below)
}
