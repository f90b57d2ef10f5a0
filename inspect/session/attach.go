package session

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/answer"
	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/closer"
	"github.com/nodeinspect/nodeinspect/inspect/inspectorsock"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/inspect/target"
	"github.com/nodeinspect/nodeinspect/internal/trace"
	"github.com/nodeinspect/nodeinspect/probes"
)

// DefaultAttachTimeout is the time limit of each step of an attach (the contract's 3 s).
const DefaultAttachTimeout = 3 * time.Second

// attachSampleWindow is the loop sample taken before an attach when --sample 0 turned the
// report's own sampling off: an attach never starts without knowing the loop turns.
const AttachSampleWindow = 200 * time.Millisecond

// attachPoll is how often the namespace's listening sockets are re-read while waiting for
// the inspector to open or close (a LISTEN-filtered netlink dump: tens of microseconds).
const attachPoll = 10 * time.Millisecond

// probeTimeout bounds one /json/version probe of a listening socket.
const probeTimeout = 500 * time.Millisecond

// attachRun is the state of one attach.
type attachRun struct {
	col     *Target
	a       *model.Attach
	timeout time.Duration
	dial    attach.Dialer
	// opened is the inode of the inspector socket nodeinspect opened (0 when it opened none
	// or none was seen).
	opened uint64
	// queuedClose is true once a close of the inspector has been sent to the target.
	queuedClose bool
	// closer is the detached closer started before the signal (nil when none was sent).
	closer *closer.Handle
	// netns is the target's network namespace path when it is not ours.
	netns string
	// armed is set once the target confirmed its dead-man's switch.
	armed bool
	// state is what this attach recorded for detach (nil when it sent nothing).
	state *closer.State
	// adopted is the closer pid of an earlier run whose inspector this run found open and
	// closes (0 when none).
	adopted int
	// blockedStack pauses the main thread a few times after the query to find where a
	// loop blocked in JavaScript is stuck (EventLoop.Stack).
	blockedStack bool
	// closeNow closes the inspector at once (attach.CloseNow) instead of queueing the
	// close for the loop's next turn: sessions, and a loop blocked in JavaScript.
	closeNow bool
	// given are the sessions whose socket the closer holds a copy of, with its id;
	// unanswered the ids of those this run closed with an answer still on its way.
	given      map[*attach.Conn]int
	unanswered []int
}

// closeInspector asks the target on conn to close its inspector, at once or queued.
func (r *attachRun) closeInspector(ctx context.Context, conn *attach.Conn) (bool, error) {
	if r.closeNow {
		return attach.CloseNow(ctx, conn)
	}
	return attach.ScheduleClose(ctx, conn)
}

// attach asks the process itself through its inspector and adds what it said to the
// snapshot. It returns an error only when the target must not be touched (ErrAttachRefused)
// or is gone; every other failure leaves the /proc snapshot whole, sets Attach.Status and
// Reason, and adds a warning.
func (col *Target) Attach(ctx context.Context) error {
	start := time.Now()
	a := &model.Attach{}
	col.Snap.Attach = a
	defer func() { a.ElapsedMS = time.Since(start).Milliseconds() }()

	if err := col.checkAttachSafe(); err != nil {
		return err
	}
	onCPU := answer.BlockedOnCPU(col.Snap.EventLoop)
	if l := col.Snap.EventLoop; !onCPU && (l == nil || (l.Verdict != "turning" && l.Verdict != "saturated")) {
		verdict := "could not be sampled"
		if l != nil && l.Verdict == "blocked" {
			doing, _ := rules.Dominant(l.Seen)
			what, _ := rules.DescribeBlocked(doing)
			verdict = "is not turning (its main thread is " + what + ", where no pause or inspector message is answered until it returns)"
		} else if l != nil {
			verdict = "could not be told turning"
		}
		a.Status = "skipped"
		a.Reason = fmt.Sprintf("the event loop %s: a loop that does not turn may never answer, and an inspector opened on it may not close again until it does; nothing was sent", verdict)
		col.Warn("attach skipped: %s", a.Reason)
		return nil
	}
	run, err := col.newAttachRun()
	if err != nil {
		return err
	}
	if onCPU {
		// A loop blocked in JavaScript answers through V8's interrupt, but never turns:
		// a queued close would wait for it forever, so the close is sent at once, and a
		// few pauses say where it is stuck.
		run.closeNow, run.blockedStack = true, true
	}
	err = run.do(ctx)
	if col.Heap == nil {
		run.cleanup(ctx)
	}
	return run.settle(err)
}

// newAttachRun prepares an attach once the checks have passed: it prunes the state of
// targets that are gone (PruneState), finds the target's
// network namespace and refuses (ErrAttachRefused) one nodeinspect cannot enter, or whose
// loopback is down. Nothing has been sent when it returns.
func (col *Target) newAttachRun() (*attachRun, error) {
	if col.FS.IsOwn() {
		// State left by runs and closers whose targets are gone (best effort: what it
		// cannot remove stays for the next run).
		_, _ = closer.PruneState(col.FS)
	}
	run := &attachRun{col: col, a: col.Snap.Attach, timeout: col.Opt.AttachTimeout}
	if run.timeout <= 0 {
		run.timeout = DefaultAttachTimeout
	}
	if same, err := probes.SameNetNS(col.FS, col.PID); err == nil && !same {
		nsPath := col.FS.PidPath(col.PID, "ns", "net")
		if err := attach.CheckNetNS(nsPath); err != nil {
			return nil, fmt.Errorf("%w: process %d is in another network namespace, where its inspector would listen, and nodeinspect cannot enter it (%v); nothing was sent: run as root, or run nodeinspect inside the process's container",
				model.ErrAttachRefused, col.PID, err)
		}
		run.dial = attach.DialInNetNS(nsPath)
		run.netns = nsPath
	}
	if err := loopbackUp(run.netns); err != nil {
		return nil, fmt.Errorf("%w: %v: the inspector would open on 127.0.0.1 where nothing can reach it, and could not be closed again; nothing was sent", model.ErrAttachRefused, err)
	}
	return run, nil
}

// settle records how a run ended (after its cleanup, or once its session is open): the
// process gone is returned (its closer told there is nothing left to close); any other
// failure becomes the attach's Status and Reason and a warning, and so does what was left
// open.
func (r *attachRun) settle(err error) error {
	col, a := r.col, r.a
	if errors.Is(err, model.ErrNoProcess) {
		r.closer.Tell("done") // the process is gone, and its inspector with it
		if r.state != nil {
			r.state.Remove()
		}
		return err
	}
	if err != nil {
		if a.Status == "" {
			a.Status = "failed"
		}
		a.Reason = err.Error()
		col.Warn("attach %s: %v", a.Status, err)
	}
	if a.LeftOpen != "" {
		col.Warn("attach: %s", a.LeftOpen)
	}
	return nil
}

// do finds or opens the inspector, asks the query and applies the answer.
func (r *attachRun) do(ctx context.Context) error {
	addr, err := r.locate(ctx)
	if err != nil {
		return err
	}
	return r.ask(ctx, addr)
}

// locate finds an inspector the process has open, or opens one (closer, last checks,
// SIGUSR1), and returns the address to dial; Attach.Inspector and AlreadyOpen are set.
func (r *attachRun) locate(ctx context.Context) (string, error) {
	col, a := r.col, r.a
	owned, err := col.ownedSocketInodes()
	if err != nil {
		if probes.IsGone(err) {
			return "", fmt.Errorf("process %d exited during the attach: %w", col.PID, model.ErrNoProcess)
		}
		return "", fmt.Errorf("read the fd table to find an open inspector: %w", err)
	}
	listening, err := col.FS.ReadListeningTCP(col.PID)
	if err != nil {
		return "", fmt.Errorf("read the listening sockets: %w", err)
	}
	ports := inspectorsock.Ports(col.Snap.Process.Cmdline, col.nodeOptions())
	if addr := r.findOpen(ctx, listening, owned, ports); addr != "" {
		a.AlreadyOpen = true
		a.Inspector = addr
		if rec, err := closer.ReadState(col.PID, col.Stat.StartTicks); err == nil && rec != nil && recordedOpen(rec, addr, listening) {
			// An earlier run of nodeinspect opened it and could not close it: this run
			// closes it after use (its closer, if still there, sees it go and ends).
			rec.Inode, rec.Inspector = inodeAt(addr, listening), addr
			r.opened, r.adopted, r.state = rec.Inode, rec.CloserPID, rec
			col.Warn("attach: the inspector on %s was opened by an earlier nodeinspect run (its closer is pid %d); this run closes it", addr, rec.CloserPID)
		}
		return addr, nil
	}
	// Where SIGUSR1 opens it: the first port named (--inspect-port), or a random one
	// (port 0), which nothing can hold.
	if len(ports) > 0 {
		port := ports[0]
		for _, s := range listening {
			if s.LocalPort != port || !blocksInspector(s.Local) {
				continue
			}
			a.Status = "skipped"
			whose := "another process's"
			if owned[s.Inode] {
				whose = "this process's own, and not an inspector"
			}
			return "", fmt.Errorf("port %d, where SIGUSR1 would open the inspector, is already taken by another socket (%s, inode %d, %s); Node would fail to open it, so nothing was sent: stop what holds the port, or start the target with --inspect-port", port, s.Local, s.Inode, whose)
		}
	}
	expect := 0
	if len(ports) > 0 {
		expect = ports[0]
	}
	addr, err := r.open(ctx, listening, expect)
	if err != nil {
		return "", err
	}
	a.Inspector = addr
	return addr, nil
}

// recordedOpen reports whether the inspector open at addr is the one an earlier run's
// signal opened, as rec records it: the inode it saw open, or, when that run and its
// closer were gone before either saw it open (rec.Inode 0), a listener that was not among
// those listening before that signal (rec.Known).
func recordedOpen(rec *closer.State, addr string, listening []probes.Socket) bool {
	if rec.Inode != 0 {
		return rec.Inspector == addr
	}
	inode := inodeAt(addr, listening)
	return inode != 0 && !slices.Contains(rec.Known, inode)
}

// inodeAt is the inode of the listener whose dial address is addr (0 when none is).
func inodeAt(addr string, listening []probes.Socket) uint64 {
	for _, s := range listening {
		if inspectorsock.DialAddr(s.Local) == addr {
			return s.Inode
		}
	}
	return 0
}

// findOpen finds an inspector the process already has open: first on the ports its
// command line and NODE_OPTIONS name, then by asking for /json/version each of its other
// listening sockets that its inspector's thread may watch (a random port, or a command
// line rewritten by process.title hides the flag); the app's own servers, and sockets
// whose loop cannot be told, are never asked (classifyListeners). It returns the address
// to dial, "" when none is open.
func (r *attachRun) findOpen(ctx context.Context, listening []probes.Socket, owned map[uint64]bool, ports []int) string {
	var others []probes.Socket
	var inodes []uint64
	for _, s := range listening {
		if !owned[s.Inode] {
			continue
		}
		if slices.Contains(ports, s.LocalPort) {
			return inspectorsock.DialAddr(s.Local)
		}
		others = append(others, s)
		inodes = append(inodes, s.Inode)
	}
	loops, err := inspectorsock.ClassifyListeners(r.col.FS, r.col.PID, inodes)
	if err != nil {
		return "" // no loop can be told: nothing is asked
	}
	kept := others[:0]
	for _, s := range others {
		if loops.OffMain[s.Inode] {
			kept = append(kept, s)
		}
	}
	others = kept
	const maxProbes = 16 // a process with more listeners than this is not probed one by one
	if len(others) > maxProbes {
		others = others[:maxProbes]
	}
	found := make([]bool, len(others))
	var wg sync.WaitGroup
	for i, s := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			probe, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			_, err := attach.ProbeVersion(probe, inspectorsock.DialAddr(s.Local), r.dial)
			found[i] = err == nil
		}()
	}
	wg.Wait()
	for i, ok := range found {
		if ok {
			return inspectorsock.DialAddr(others[i].Local)
		}
	}
	return ""
}

// blocksInspector reports whether a socket bound to local keeps Node from opening its
// inspector on the same port of 127.0.0.1 (where SIGUSR1 opens it): 127.0.0.1, the IPv4
// wildcard, or the IPv6 wildcard (dual-stack). [::1] alone does not.
func blocksInspector(local string) bool {
	ap, err := netip.ParseAddrPort(local)
	if err != nil {
		return true // cannot tell: assume it does
	}
	a := ap.Addr()
	return a == netip.MustParseAddr("127.0.0.1") || a.IsUnspecified()
}

// open starts the closer, checks once more that the process can run and that the run was
// not interrupted, sends SIGUSR1 and waits for the new inspector.
func (r *attachRun) open(ctx context.Context, before []probes.Socket, expect int) (string, error) {
	col, a := r.col, r.a
	known := make(map[uint64]bool, len(before))
	ids := make([]uint64, 0, len(before))
	for _, s := range before {
		known[s.Inode] = true
		ids = append(ids, s.Inode)
	}
	h, err := closer.Start(closer.Spec{PID: col.PID, StartTicks: col.Stat.StartTicks, Known: ids, NetNS: r.netns,
		Proc: col.FS.Root, Bound: col.closerBound(), SentAt: time.Now(), Port: expect, CloseNow: r.closeNow})
	if err != nil {
		return "", fmt.Errorf("%w: %v: without it an inspector left open by a crash of this run could not be closed; nothing was sent", model.ErrAttachRefused, err)
	}
	a.Closer = &model.CloserInfo{PID: h.Pid, Until: h.Until.UTC()}
	// The last checks come immediately before the signal: a Ctrl-C, a stop or a freeze
	// since the first checks means nothing is sent.
	if why, err := target.HeldReason(col.FS, col.PID); err == nil && why != "" {
		h.Tell("abort")
		a.Closer = nil
		return "", fmt.Errorf("%w: process %d is %s: its inspector would open only once it runs again, after nodeinspect has gone; nothing was sent", model.ErrAttachRefused, col.PID, why)
	}
	if ctx.Err() != nil {
		h.Tell("abort")
		a.Closer = nil
		return "", fmt.Errorf("interrupted before the attach: %w (nothing was sent)", ctx.Err())
	}
	trace.Printf("attach: closer started")
	if err := col.signalIfSame(sigusr1); err != nil {
		h.Tell("abort")
		a.Closer = nil
		return "", err
	}
	r.closer = h
	a.SentSignal = true
	// Recorded here too, not only by the closer: `nodeinspect detach` finds it even if the
	// closer never got to run.
	r.state = &closer.State{PID: col.PID, StartTicks: col.Stat.StartTicks, CloserPID: h.Pid, State: "waiting",
		SentAt: time.Now().UTC(), Until: h.Until.UTC(), Known: ids, NetNS: r.netns}
	_ = r.state.Write()
	wait, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	tick := time.NewTicker(attachPoll)
	defer tick.Stop()
	for {
		if col.ExitedSince() {
			return "", fmt.Errorf("process %d exited during the attach: %w", col.PID, model.ErrNoProcess)
		}
		if addr, inode := closer.FreshInspector(wait, col.FS, col.PID, known, r.dial, expect); inode != 0 {
			r.opened = inode
			r.state.Inode, r.state.Inspector, r.state.State = inode, addr, "open"
			_ = r.state.Write()
			trace.Printf("attach: inspector open")
			return addr, nil
		}
		select {
		case <-wait.Done():
			if ctx.Err() != nil {
				return "", fmt.Errorf("interrupted while waiting for the inspector to open: %w", ctx.Err())
			}
			return "", fmt.Errorf("SIGUSR1 was sent but no inspector opened within %s. Most likely the app handles SIGUSR1 itself (process.on('SIGUSR1'): log reopening, a restart hook), and its handler ran instead of Node opening the inspector; to make it attachable, start it with --inspect=127.0.0.1:0 (or NODE_OPTIONS=--inspect=127.0.0.1:0), then run this again. Otherwise the process may be busy in native code, or the port taken: Node printed why on the process's own stderr", r.timeout)
		case <-tick.C:
		}
	}
}

// ask opens a session, arms the dead-man's switch, sends the query, queues the close when
// nodeinspect opened the inspector, and applies the answer. No session outlives it.
func (r *attachRun) ask(ctx context.Context, addr string) error {
	col := r.col
	step, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	conn, err := r.connect(ctx, step, addr)
	if err != nil {
		return err
	}
	defer r.hangUp(conn)
	keep := col.KeepSession
	closeAfter := r.opened != 0 && !keep
	ans, err := attach.Ask(step, conn, false)
	if err == nil {
		col.into().AskOwners(step, conn)
	}
	if err == nil && r.blockedStack {
		col.into().SampleBlockedStack(step, conn)
	}
	if err == nil {
		col.into().MeasureDelay(ctx, conn, r.timeout)
	}
	if closeAfter && (err == nil || step.Err() == nil) {
		// Sent whatever the answer: a stalled target runs it when its loop turns.
		r.sendClose(ctx, conn)
	}
	if err != nil {
		return r.stepError(ctx, step, "ask the process", err)
	}
	if keep {
		col.Heap = &HeapSession{run: r, addr: addr}
	}
	col.into().ApplyAnswer(ans)
	r.a.Status = "ok"
	return nil
}

// connect opens a session on the inspector at addr and, when nodeinspect opened the
// inspector, arms the dead-man's switch as its first message: if this run and its closer
// both die from there on, the inspector still closes itself once nobody is connected. A
// switch that cannot be armed queues the close at once (the run ends there). Errors are
// worded by stepError.
func (r *attachRun) connect(ctx, step context.Context, addr string) (*attach.Conn, error) {
	target, err := attach.ListTargets(step, addr, r.dial)
	if err != nil {
		return nil, r.stepError(ctx, step, "list the inspector's targets", err)
	}
	conn, err := r.dialSession(step, target.WebSocketURL)
	if err != nil {
		return nil, r.stepError(ctx, step, "open a session", err)
	}
	if r.opened != 0 {
		if err := attach.ArmDeadman(step, conn, r.col.deadman().Milliseconds(), model.PortOf(addr)); err != nil {
			if step.Err() == nil {
				r.sendClose(ctx, conn)
			}
			r.hangUp(conn)
			return nil, r.stepError(ctx, step, "arm the inspector's dead-man's switch", err)
		}
		r.armed = true
	}
	trace.Printf("attach: connected and armed")
	return conn, nil
}

// dialSession opens a session on url and, when this run started a closer, hands the
// closer a copy of its socket before the first command (closer_sockets.go): if this
// process dies or leaves with an answer on its way, the connection stays open in the
// closer and Node 20's inspector never writes that answer to a client that is gone.
func (r *attachRun) dialSession(ctx context.Context, url string) (*attach.Conn, error) {
	conn, err := attach.Dial(ctx, url, r.dial)
	if err != nil {
		return nil, err
	}
	if id := r.closer.Give(conn); id != 0 {
		if r.given == nil {
			r.given = map[*attach.Conn]int{}
		}
		r.given[conn] = id
	}
	return conn, nil
}

// hangUp ends this process's side of a session: when every answer was read, the closer's
// copy is released first and the session ends here; with an answer still on its way, the
// closer keeps its copy (and so the connection) until the inspector ends the session
// itself or the target exits.
func (r *attachRun) hangUp(conn *attach.Conn) {
	if id, ok := r.given[conn]; ok {
		delete(r.given, conn)
		if conn.Pending() {
			r.unanswered = append(r.unanswered, id)
		} else {
			r.closer.Release(id)
		}
	}
	conn.Close()
}

// releaseUnanswered lets the closer close the sessions this run left with an answer on its
// way, once the inspector's close has begun (heldSockets.closeAll says why that is safe):
// until then, the close waits for them to leave.
func (r *attachRun) releaseUnanswered() {
	for _, id := range r.unanswered {
		r.closer.Release(id)
	}
	r.unanswered = nil
}

// sendClose queues the inspector's close on conn, with its own short time limit (ctx may
// be cancelled by Ctrl-C, or the step's time limit spent on a stalled query).
func (r *attachRun) sendClose(ctx context.Context, conn *attach.Conn) {
	limit, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	sent, err := r.closeInspector(limit, conn)
	if sent {
		r.queuedClose = true
	}
	_ = err // cleanup tries again on a new session, and says so if that fails too
}

// stepError words the failure of an attach step: a timeout is its own status.
func (r *attachRun) stepError(ctx, step context.Context, what string, err error) error {
	if r.col.ExitedSince() || r.exitingWithoutInspector(ctx) {
		return fmt.Errorf("process %d exited during the attach (while trying to %s): %w", r.col.PID, what, model.ErrNoProcess)
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
	listening, err := col.FS.ReadListeningTCP(col.PID)
	if err != nil {
		return probes.IsGone(err)
	}
	for _, s := range listening {
		if inspectorsock.DialAddr(s.Local) == r.a.Inspector {
			return false // still open: the failure is the step's own
		}
	}
	wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	tick := time.NewTicker(attachPoll)
	defer tick.Stop()
	for {
		if col.ExitedSince() {
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
// (errors, timeouts, Ctrl-C): it queues a close if none was queued, ends any other client's
// connection (a close waits on the target's main thread for every session to leave), then
// waits for the listening socket to go. Whatever it cannot confirm it hands to the closer,
// and says so. Its time limit does not depend on ctx, which may be cancelled.
func (r *attachRun) cleanup(ctx context.Context) {
	col, a := r.col, r.a
	if !a.SentSignal && r.adopted == 0 {
		return
	}
	closerPID := r.adopted
	if r.closer != nil {
		closerPID = r.closer.Pid
	}
	if r.opened == 0 {
		// Signalled, but no inspector was seen: it may still open (a stopped or busy
		// process). The closer waits for it.
		a.Closed = ptr(false)
		a.LeftOpen = fmt.Sprintf("SIGUSR1 was sent to process %d but no inspector was seen open; if one opens later (a stopped, frozen or busy process opens it when it runs again), nodeinspect's closer (pid %d) closes it at once, watching until %s; to check or close it yourself: nodeinspect detach %d",
			col.PID, r.closer.Pid, r.closer.Until.UTC().Format(time.RFC3339), col.PID)
		r.closer.Tell("handoff")
		return
	}
	clean, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	if !r.queuedClose && a.Inspector != "" {
		if err := r.queueClose(clean); err != nil && !r.queuedClose {
			col.Warn("attach: could not ask the process to close the inspector it opened: %v", err)
		}
	}
	closed := r.waitClosed(clean)
	a.Closed = &closed
	if closed {
		r.closer.Tell("done")
		r.state.Remove()
		return
	}
	if r.queuedClose {
		r.closer.Tell("handoff queued")
	} else {
		r.closer.Tell("handoff")
	}
	how := "its close is queued and runs as soon as the event loop turns again"
	if r.closeNow {
		how = "a close was sent and runs as soon as the main thread answers the inspector (at once for JavaScript, when it returns for a system call or native code)"
	}
	if !r.queuedClose {
		how = "no close could be queued yet"
	}
	deadman := ""
	if r.armed {
		deadman = fmt.Sprintf(", and the process's own dead-man's switch closes it %s after the last session left", col.deadman())
	}
	a.LeftOpen = fmt.Sprintf("the inspector nodeinspect opened on %s (socket inode %d) is still listening: %s; nodeinspect's closer (pid %d) watches it (and cuts any client that would hold up the close) until it is gone, at the latest when the process's event loop turns again or it exits%s. It accepts connections from this host's loopback only. To close it now: nodeinspect detach %d",
		a.Inspector, r.opened, how, closerPID, deadman, col.PID)
}

// queueClose opens a session only to schedule inspector.close().
func (r *attachRun) queueClose(ctx context.Context) error {
	target, err := attach.ListTargets(ctx, r.a.Inspector, r.dial)
	if err != nil {
		return err
	}
	conn, err := r.dialSession(ctx, target.WebSocketURL)
	if err != nil {
		return err
	}
	defer r.hangUp(conn)
	sent, err := r.closeInspector(ctx, conn)
	r.queuedClose = sent
	return err
}

// waitClosed polls until the inspector is closed (closedFor: its listening socket gone and
// no client left, any client still connected once the close has begun being ended: a close
// with a client connected blocks the target's main thread).
func (r *attachRun) waitClosed(ctx context.Context) bool {
	tick := time.NewTicker(attachPoll)
	defer tick.Stop()
	port := model.PortOf(r.a.Inspector)
	var pending time.Time
	for {
		if r.col.ExitedSince() {
			return true // the process is gone, and its sockets with it
		}
		if len(r.unanswered) > 0 {
			if open, err := inspectorsock.ListeningOwned(r.col.FS, r.col.PID, r.opened); err == nil && !open {
				r.releaseUnanswered()
			}
		}
		closed, err := inspectorsock.ClosedFor(r.col.FS, r.col.PID, r.opened, port, &pending)
		if err != nil && probes.IsGone(err) {
			return true
		}
		if err == nil && closed {
			return true
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
func (col *Target) ownedSocketInodes() (map[uint64]bool, error) {
	if col.Snap.FDs == nil || col.Snap.FDs.List == nil {
		return col.FS.SocketInodes(col.PID)
	}
	owned := map[uint64]bool{}
	for _, fd := range col.Snap.FDs.List {
		if fd.Socket != nil {
			owned[fd.Socket.Inode] = true
		}
	}
	return owned, nil
}

// nodeOptions is the target's NODE_OPTIONS ("" when unset or unreadable).
func (col *Target) nodeOptions() string {
	v, _, _ := col.FS.ReadEnv(col.PID, "NODE_OPTIONS")
	return v
}

// closerBound is the closer's wait for a late inspector (Options.CloserBound or the default).
func (col *Target) closerBound() time.Duration {
	if col.Opt.CloserBound > 0 {
		return col.Opt.CloserBound
	}
	return closer.DefaultCloserBound
}

// deadman is the dead-man's switch delay (Options.Deadman or the default).
func (col *Target) deadman() time.Duration {
	if col.Opt.Deadman > 0 {
		return col.Opt.Deadman
	}
	return closer.DefaultDeadman
}

// loopbackUp fails when the loopback of the target's namespace (nsPath, "" for ours) is
// down; a namespace whose loopback cannot be read is let through (the dial then says why).
func loopbackUp(nsPath string) error {
	up, err := attach.LoopbackUp(nsPath)
	if err == nil && !up {
		where := "this network namespace"
		if nsPath != "" {
			where = "the process's network namespace (" + nsPath + ")"
		}
		return fmt.Errorf("the loopback interface of %s is down", where)
	}
	return nil
}
