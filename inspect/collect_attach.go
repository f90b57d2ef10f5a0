package inspect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/probes"
)

// DefaultAttachTimeout is the time limit of each step of an attach (the contract's 3 s).
const DefaultAttachTimeout = 3 * time.Second

// attachSampleWindow is the loop sample taken before an attach when --sample 0 turned the
// report's own sampling off: an attach never starts without knowing the loop turns.
const attachSampleWindow = 200 * time.Millisecond

// attachPoll is how often the namespace's listening sockets are re-read while waiting for
// the inspector to open or close (a LISTEN-filtered netlink dump: tens of microseconds).
const attachPoll = 10 * time.Millisecond

// attachRun is the state of one attach.
type attachRun struct {
	col     *collection
	a       *Attach
	timeout time.Duration
	dial    attach.Dialer
	// opened is the inode of the inspector socket nodeinspect opened (0 when it opened none).
	opened uint64
	// queuedClose is true once a close of the inspector has been sent to the target.
	queuedClose bool
}

// attach asks the process itself through its inspector and adds what it said to the
// snapshot. It returns an error only when the target must not be touched (ErrAttachRefused)
// or is gone; every other failure leaves the /proc snapshot whole, sets Attach.Status and
// Reason, and adds a warning.
func (col *collection) attach(ctx context.Context) error {
	start := time.Now()
	a := &Attach{}
	col.snap.Attach = a
	defer func() { a.ElapsedMS = time.Since(start).Milliseconds() }()

	if err := col.checkAttachSafe(); err != nil {
		return err
	}
	if l := col.snap.EventLoop; l == nil || l.Verdict != "turning" {
		verdict := "could not be sampled"
		if l != nil && l.Verdict == "blocked" {
			verdict = "is not turning"
		} else if l != nil {
			verdict = "could not be told turning"
		}
		a.Status = "skipped"
		a.Reason = fmt.Sprintf("the event loop %s: a loop that does not turn may never answer, and an inspector opened on it may not close again until it does; nothing was sent", verdict)
		col.warn("attach skipped: %s", a.Reason)
		return nil
	}
	run := &attachRun{col: col, a: a, timeout: col.opt.AttachTimeout}
	if run.timeout <= 0 {
		run.timeout = DefaultAttachTimeout
	}
	if same, err := probes.SameNetNS(col.c.FS, col.pid); err == nil && !same {
		nsPath := col.c.FS.PidPath(col.pid, "ns", "net")
		if err := attach.CheckNetNS(nsPath); err != nil {
			return fmt.Errorf("%w: process %d is in another network namespace, where its inspector would listen, and nodeinspect cannot enter it (%v); nothing was sent: run as root, or run nodeinspect inside the process's container",
				ErrAttachRefused, col.pid, err)
		}
		run.dial = attach.DialInNetNS(nsPath)
	}
	err := run.do(ctx)
	if col.session == nil {
		run.cleanup(ctx)
	}
	if errors.Is(err, ErrNoProcess) {
		return err
	}
	if err != nil {
		if a.Status == "" {
			a.Status = "failed"
		}
		a.Reason = err.Error()
		col.warn("attach %s: %v", a.Status, err)
	}
	if a.LeftOpen != "" {
		col.warn("attach: %s", a.LeftOpen)
	}
	return nil
}

// do finds or opens the inspector, asks the query and applies the answer.
func (r *attachRun) do(ctx context.Context) error {
	col, a := r.col, r.a
	owned, err := col.ownedSocketInodes()
	if err != nil {
		if probes.IsGone(err) {
			return fmt.Errorf("process %d exited during the attach: %w", col.pid, ErrNoProcess)
		}
		return fmt.Errorf("read the fd table to find an open inspector: %w", err)
	}
	listening, err := col.c.FS.ReadListeningTCP(col.pid)
	if err != nil {
		return fmt.Errorf("read the listening sockets: %w", err)
	}
	ports := InspectorPorts(col.snap.Process.Cmdline, col.nodeOptions())
	addr := ""
	for _, s := range listening {
		if owned[s.Inode] && containsInt(ports, s.LocalPort) {
			addr = dialAddr(s.Local)
			break
		}
	}
	if addr != "" {
		a.AlreadyOpen = true
	} else {
		port := ports[0]
		for _, s := range listening {
			if s.LocalPort == port {
				a.Status = "skipped"
				return fmt.Errorf("port %d, where SIGUSR1 would open the inspector, is already taken by another socket (%s, inode %d, not this process's); Node would fail to open it, so nothing was sent: stop what holds the port, or start the target with --inspect-port", port, s.Local, s.Inode)
			}
		}
		if addr, err = r.open(ctx, listening, ports); err != nil {
			return err
		}
	}
	a.Inspector = addr
	return r.ask(ctx, addr)
}

// open sends SIGUSR1 and waits for the new listening socket of the process.
func (r *attachRun) open(ctx context.Context, before []probes.Socket, ports []int) (string, error) {
	col, a := r.col, r.a
	known := make(map[uint64]bool, len(before))
	for _, s := range before {
		known[s.Inode] = true
	}
	if err := col.signalIfSame(sigusr1); err != nil {
		return "", err
	}
	a.SentSignal = true
	wait, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	tick := time.NewTicker(attachPoll)
	defer tick.Stop()
	for {
		if col.exitedSince() {
			return "", fmt.Errorf("process %d exited during the attach: %w", col.pid, ErrNoProcess)
		}
		listening, err := col.c.FS.ReadListeningTCP(col.pid)
		if err != nil && probes.IsGone(err) {
			return "", fmt.Errorf("process %d exited during the attach: %w", col.pid, ErrNoProcess)
		}
		var fresh []probes.Socket
		for _, s := range listening {
			if !known[s.Inode] {
				fresh = append(fresh, s)
			}
		}
		if len(fresh) > 0 {
			owned, err := col.c.FS.SocketInodes(col.pid)
			if err != nil && probes.IsGone(err) {
				return "", fmt.Errorf("process %d exited during the attach: %w", col.pid, ErrNoProcess)
			}
			for _, s := range fresh {
				if owned[s.Inode] {
					r.opened = s.Inode
					return dialAddr(s.Local), nil
				}
				known[s.Inode] = true // someone else's
			}
		}
		select {
		case <-wait.Done():
			if ctx.Err() != nil {
				return "", fmt.Errorf("interrupted while waiting for the inspector to open: %w", ctx.Err())
			}
			return "", fmt.Errorf("SIGUSR1 was sent but no inspector opened within %s: the port (%d) may be taken, or the inspector bound somewhere unexpected; Node printed why on the process's own stderr", r.timeout, ports[0])
		case <-tick.C:
		}
	}
}

// ask opens a session, sends the query (which schedules the close when nodeinspect opened
// the inspector) and applies the answer.
func (r *attachRun) ask(ctx context.Context, addr string) error {
	col := r.col
	step, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	target, err := attach.ListTargets(step, addr, r.dial)
	if err != nil {
		return r.stepError(ctx, step, "list the inspector's targets", err)
	}
	conn, err := attach.Dial(step, target.WebSocketURL, r.dial)
	if err != nil {
		return r.stepError(ctx, step, "open a session", err)
	}
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	keep := col.keepSession
	r.queuedClose = r.opened != 0 && !keep
	ans, err := attach.Ask(step, conn, r.opened != 0 && !keep)
	if err != nil {
		return r.stepError(ctx, step, "ask the process", err)
	}
	if keep {
		col.session = &HeapSession{run: r, conn: conn}
		conn = nil // kept open; HeapSession.Close closes it
	}
	if r.queuedClose && !ans.CloseScheduled {
		r.queuedClose = false
		col.warn("attach: the process could not schedule its inspector's close: %s", ans.Errors["close_scheduled"])
	}
	col.applyAnswer(ans)
	r.a.Status = "ok"
	return nil
}

// exitedSince reports whether the process is gone, a zombie (it exited and waits for its
// parent), or replaced by another with the same pid.
func (col *collection) exitedSince() bool {
	st, err := col.c.FS.ReadStat(col.pid)
	if err != nil {
		return probes.IsGone(err)
	}
	return st.StartTicks != col.stat.StartTicks || st.Exited()
}

// stepError words the failure of an attach step: a timeout is its own status.
func (r *attachRun) stepError(ctx, step context.Context, what string, err error) error {
	if r.col.exitedSince() || r.exitingWithoutInspector(ctx) {
		return fmt.Errorf("process %d exited during the attach (while trying to %s): %w", r.col.pid, what, ErrNoProcess)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted while trying to %s: %w", what, err)
	}
	if step.Err() != nil || errors.Is(err, attach.ErrNoAnswer) {
		r.a.Status = "timeout"
		return fmt.Errorf("no answer within %s while trying to %s: the event loop may have stalled after the attach began", r.timeout, what)
	}
	return fmt.Errorf("%s at %s: %w", what, r.a.Inspector, err)
}

// exitingWithoutInspector reports whether the process closed its inspector on its own and
// then exited: Node closes the inspector's socket while it tears down (still in state S,
// before exit_group), so a step can fail with "connection refused" from a process that is
// not yet a zombie. When no socket of the process listens at the inspector's address any
// more, it waits up to the step's time limit for the process to exit; a process that stays
// (something in it called inspector.close()) gives false.
func (r *attachRun) exitingWithoutInspector(ctx context.Context) bool {
	col := r.col
	if r.a.Inspector == "" {
		return false
	}
	listening, err := col.c.FS.ReadListeningTCP(col.pid)
	if err != nil {
		return probes.IsGone(err)
	}
	for _, s := range listening {
		if dialAddr(s.Local) == r.a.Inspector {
			return false // still open: the failure is the step's own
		}
	}
	wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	tick := time.NewTicker(attachPoll)
	defer tick.Stop()
	for {
		if col.exitedSince() {
			return true
		}
		select {
		case <-wait.Done():
			return false
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// cleanup makes sure an inspector nodeinspect opened is closed again, on every path
// (errors, timeouts, Ctrl-C): it queues a close if none was queued, then waits for the
// listening socket to go. Its time limit does not depend on ctx, which may be cancelled.
func (r *attachRun) cleanup(ctx context.Context) {
	if r.opened == 0 {
		return
	}
	col, a := r.col, r.a
	clean, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	if !r.queuedClose && a.Inspector != "" {
		if err := r.queueClose(clean); err != nil {
			col.warn("attach: could not ask the process to close the inspector it opened: %v", err)
		}
	}
	closed := r.waitClosed(clean)
	a.Closed = &closed
	if !closed {
		how := "its close is queued and runs as soon as the event loop turns again"
		if !r.queuedClose {
			how = "no close could be queued; it stays open until the process exits (run `nodeinspect report --attach` again once the loop turns, which closes what it finds open only if nodeinspect opened it — or restart the process)"
		}
		a.LeftOpen = fmt.Sprintf("the inspector nodeinspect opened on %s (socket inode %d) is still listening: %s. It accepts connections from this host's loopback only", a.Inspector, r.opened, how)
	}
}

// queueClose opens a session only to schedule inspector.close().
func (r *attachRun) queueClose(ctx context.Context) error {
	target, err := attach.ListTargets(ctx, r.a.Inspector, r.dial)
	if err != nil {
		return err
	}
	conn, err := attach.Dial(ctx, target.WebSocketURL, r.dial)
	if err != nil {
		return err
	}
	defer conn.Close()
	sent, err := attach.ScheduleClose(ctx, conn)
	r.queuedClose = sent
	return err
}

// waitClosed polls until the socket the inspector opened is gone.
func (r *attachRun) waitClosed(ctx context.Context) bool {
	tick := time.NewTicker(attachPoll)
	defer tick.Stop()
	for {
		if r.col.exitedSince() {
			return true // the process is gone, and its sockets with it
		}
		listening, err := r.col.c.FS.ReadListeningTCP(r.col.pid)
		if err != nil && probes.IsGone(err) {
			return true
		}
		if err == nil {
			open := false
			for _, s := range listening {
				if s.Inode == r.opened {
					open = true
				}
			}
			if !open {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// ownedSocketInodes is the set of the process's socket inodes: from the fd table this
// collection already read (an inspector open before nodeinspect came is in it), or read now.
func (col *collection) ownedSocketInodes() (map[uint64]bool, error) {
	if col.snap.FDs == nil || col.snap.FDs.List == nil {
		return col.c.FS.SocketInodes(col.pid)
	}
	owned := map[uint64]bool{}
	for _, fd := range col.snap.FDs.List {
		if fd.Socket != nil {
			owned[fd.Socket.Inode] = true
		}
	}
	return owned, nil
}

// nodeOptions is the target's NODE_OPTIONS ("" when unset or unreadable).
func (col *collection) nodeOptions() string {
	v, _, _ := col.c.FS.ReadEnv(col.pid, "NODE_OPTIONS")
	return v
}
