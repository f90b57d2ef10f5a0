package closer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/inspectorsock"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/target"
	"github.com/nodeinspect/nodeinspect/probes"
)

// DefaultCloserBound is how long the closer waits for an inspector that a SIGUSR1 of
// nodeinspect may still open, counted in time the target could run (time it spends stopped
// or frozen is added): a stopped process, a long GC, a native burst or an execSync opens
// it only when its main thread next runs JavaScript.
const DefaultCloserBound = 5 * time.Minute

// DefaultDeadman is the dead-man's switch armed in the target: with no session connected
// this long after nodeinspect's last message, the inspector closes itself.
const DefaultDeadman = 60 * time.Second

// CloserCommand is the hidden command that runs a closer (`nodeinspect __closer SPEC`).
const CloserCommand = "__closer"

// CloserExecutable is the program started as the closer: nodeinspect itself.
var CloserExecutable = "/proc/self/exe"

// Spec is what a closer is told when it starts (its single argument, as JSON).
type Spec struct {
	PID        int    `json:"pid"`
	StartTicks uint64 `json:"start_ticks"`
	// Known are the listening sockets of the target's namespace before the signal: the
	// inspector is the target's listening socket that is not among them.
	Known []uint64 `json:"known"`
	// NetNS is the target's network namespace when it is not ours ("" when it is).
	NetNS string `json:"netns,omitempty"`
	// Proc is the proc root (this system's own: attach refuses any other).
	Proc string `json:"proc"`
	// Bound is how long to wait for the inspector to open (DefaultCloserBound).
	Bound time.Duration `json:"bound"`
	// SentAt is when the closer was started, just before the signal.
	SentAt time.Time `json:"sent_at"`
	// Port is where SIGUSR1 opens the inspector (0 when random).
	Port int `json:"port,omitempty"`
	// CloseNow closes with attach.CloseNow (at once, also on a loop blocked in
	// JavaScript) instead of a close queued for the loop's next turn.
	CloseNow bool `json:"close_now,omitempty"`
}

// State is what a closer records for `nodeinspect detach` and later runs, in
// StateDir()/<pid>-<start ticks>.json.
type State struct {
	PID        int    `json:"pid"`
	StartTicks uint64 `json:"start_ticks"`
	CloserPID  int    `json:"closer_pid"`
	// State is "waiting" (for the inspector to open), "open" (nodeinspect's run uses it),
	// "closing" (the closer is closing it) or "gave up" (it never opened within the bound).
	State     string    `json:"state"`
	SentAt    time.Time `json:"sent_at"`
	Until     time.Time `json:"until"`
	Inspector string    `json:"inspector,omitempty"`
	Inode     uint64    `json:"inode,omitempty"`
	Known     []uint64  `json:"known"`
	NetNS     string    `json:"netns,omitempty"`
	Note      string    `json:"note,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// StateDir is where closers record their state: $NODEINSPECT_STATE_DIR, else
// /run/nodeinspect (root), else $XDG_RUNTIME_DIR/nodeinspect, else a per-user directory
// under the temporary directory.
func StateDir() string {
	if d := os.Getenv("NODEINSPECT_STATE_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/run/nodeinspect"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "nodeinspect")
	}
	return filepath.Join(os.TempDir(), "nodeinspect-"+strconv.Itoa(os.Geteuid()))
}

// statePath is the state file of one process (pid and start time: a reused pid has
// another file).
func statePath(pid int, startTicks uint64) string {
	return filepath.Join(StateDir(), fmt.Sprintf("%d-%d.json", pid, startTicks))
}

// ReadState reads the recorded state of pid (nil, nil when there is none).
func ReadState(pid int, startTicks uint64) (*State, error) {
	p := statePath(pid, startTicks)
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("decode %s: %w", p, err)
	}
	return &st, nil
}

// Write records st atomically (a temporary file renamed over the old one).
func (st *State) Write() error {
	st.UpdatedAt = time.Now().UTC()
	dir := StateDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	data, _ := json.MarshalIndent(st, "", "  ")
	p := statePath(st.PID, st.StartTicks)
	tmp := p + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	return os.Rename(tmp, p)
}

// Remove deletes the state file.
func (st *State) Remove() { _ = os.Remove(statePath(st.PID, st.StartTicks)) }

// Handle is the running closer, seen from the attach that started it.
type Handle struct {
	Pid   int
	Until time.Time
	w     *os.File
	// sessions is this end of the socketpair the session sockets are handed over on
	// (closer_sockets.go); nextID numbers them.
	sessions *os.File
	nextID   int
}

// Start starts the closer for one attach, before the signal: nodeinspect itself in
// the hidden __closer mode, in a session of its own (setsid) so that a Ctrl-C to the
// terminal's process group, a hang-up, or a SIGKILL of this process does not reach it. It
// reads this process's messages on fd 3; end of file without "done" (this process died)
// makes it take over. Fd 4 is a socketpair on which each session's socket is handed over
// (closer_sockets.go).
func Start(spec Spec) (*Handle, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode the closer's spec: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("make the closer's pipe: %w", err)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("make the closer's socketpair: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(pair[0]), "closer-sessions"), os.NewFile(uintptr(pair[1]), "sessions")
	cmd := exec.Command(CloserExecutable, CloserCommand, string(data))
	cmd.ExtraFiles = []*os.File{r, theirs} // fds 3 and 4
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = os.Environ()
	err = cmd.Start()
	r.Close()
	theirs.Close()
	if err != nil {
		w.Close()
		ours.Close()
		return nil, fmt.Errorf("start the closer %s: %w", CloserExecutable, err)
	}
	go func() { _ = cmd.Wait() }() // reap it if it ends before us
	return &Handle{Pid: cmd.Process.Pid, Until: spec.SentAt.Add(spec.Bound), w: w, sessions: ours}, nil
}

// Give hands the closer a copy of conn's socket, before conn's first command; it returns
// the id to release it by (0 when it could not be given: the session then ends the way
// it always did, and a crash of Node 20's inspector stays possible if this process dies
// with an answer on its way).
func (h *Handle) Give(conn *attach.Conn) int {
	if h == nil || h.sessions == nil {
		return 0
	}
	fd, err := conn.DupSocket()
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	h.nextID++
	if giveSocket(h.sessions, h.nextID, fd) != nil {
		return 0
	}
	return h.nextID
}

// Release tells the closer to close its copy of session id (every answer was read).
func (h *Handle) Release(id int) {
	if h == nil || h.sessions == nil || id == 0 {
		return
	}
	_ = releaseSocket(h.sessions, id)
}

// Tell sends one message and closes the pipe: "done" (everything is closed), "handoff"
// (the closer owns the cleanup now), "handoff queued" (the same, with a close already
// queued in the target) or "abort" (nothing was sent).
func (h *Handle) Tell(msg string) {
	if h == nil || h.w == nil {
		return
	}
	_, _ = h.w.WriteString(msg + "\n")
	_ = h.w.Close()
	h.w = nil
	if h.sessions != nil {
		_ = h.sessions.Close()
		h.sessions = nil
	}
}

// closerSettle is how long the closer leaves an inspector it has just seen open before
// it acts: nothing is done to an inspector in its first moments, while Node may still be
// running the second of the two start requests a SIGUSR1 makes.
const closerSettle = 500 * time.Millisecond

// parentStopLimit is how long the attach that started a closer may be stopped before the
// closer closes the inspector in its place.
const parentStopLimit = 10 * time.Second

// closerPoll is how often the closer looks: fast while an attach is under way, slower
// once it has been waiting a while (the inspector then opens late, and a second of delay
// is nothing next to the minutes it waits).
func closerPoll(since time.Duration) time.Duration {
	switch {
	case since < 10*time.Second:
		return 20 * time.Millisecond
	case since < time.Minute:
		return 200 * time.Millisecond
	}
	return time.Second
}

// Run is the closer (the __closer hidden command). It waits for the inspector the
// signal opens, however late within spec.Bound of runnable time; while the attach that
// started it lives and has not handed over, it only watches; once that attach is gone
// (control's end of file) or hands over, it closes the inspector without ever blocking the
// target (inspectorCloser) and ends. It ends early when the target exits. It records its
// state for `nodeinspect detach`. sessions (nil when none) is where the attach hands over
// its session sockets (closer_sockets.go): the closer holds them without reading while the
// attach lives, and drains them once it owns the cleanup. It returns the process exit code.
func Run(spec Spec, control io.Reader, sessions *os.File) int {
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE, syscall.SIGQUIT)
	if spec.Bound <= 0 {
		spec.Bound = DefaultCloserBound
	}
	fs := probes.NewFS(spec.Proc)
	var dial attach.Dialer
	if spec.NetNS != "" {
		dial = attach.DialInNetNS(spec.NetNS)
	}
	known := make(map[uint64]bool, len(spec.Known))
	for _, k := range spec.Known {
		known[k] = true
	}
	st := &State{PID: spec.PID, StartTicks: spec.StartTicks, CloserPID: os.Getpid(), State: "waiting",
		SentAt: spec.SentAt.UTC(), Until: spec.SentAt.Add(spec.Bound).UTC(), Known: spec.Known, NetNS: spec.NetNS}
	if prev, err := ReadState(spec.PID, spec.StartTicks); err == nil && prev != nil && prev.CloserPID == st.CloserPID {
		// The attach recorded it first (and maybe already saw the inspector open).
		st.Inode, st.Inspector, st.State = prev.Inode, prev.Inspector, prev.State
	}
	_ = st.Write()

	held := &heldSockets{}
	if sessions != nil {
		go held.receive(sessions)
	}
	msgs := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(control)
		for sc.Scan() {
			msgs <- sc.Text()
		}
		msgs <- "eof"
	}()
	ownedByParent, queuedByParent := true, false
	parent := os.Getppid() // the attach that started this closer
	seenAt := time.Now()   // when the inspector was first seen open
	var parentStopped time.Time
	var pending time.Time // since when clients hold up a close (closedFor)
	var closer *inspectorsock.Closer
	var lastAttempt time.Time
	last := time.Now()
	start := last
	ctx := context.Background()
	for {
		for drained := false; !drained; {
			select {
			case m := <-msgs:
				switch m {
				case "abort", "done":
					st.Remove()
					return 0
				case "handoff queued":
					// The attach queued a close already: only end clients that
					// would block it.
					ownedByParent, queuedByParent = false, true
				default: // "handoff", "eof": the attach is over or gone
					ownedByParent = false
				}
			default:
				drained = true
			}
		}
		if !ownedByParent {
			held.drain() // nodeinspect is gone or handed over: read what the inspector still sends
		}
		now := time.Now()
		if ownedByParent {
			// An attach stopped (Ctrl-Z on a watch, a debugger) keeps the inspector open
			// for as long as it is stopped: after parentStopLimit the closer takes over.
			if ps, err := fs.ReadStat(parent); err == nil && (ps.State == "T" || ps.State == "t") {
				if parentStopped.IsZero() {
					parentStopped = now
				} else if now.Sub(parentStopped) > parentStopLimit {
					ownedByParent = false
					st.Note = fmt.Sprintf("nodeinspect (pid %d) was stopped for more than %s", parent, parentStopLimit)
				}
			} else {
				parentStopped = time.Time{}
			}
		}
		stat, err := fs.ReadStat(spec.PID)
		if target.CheckGone(spec.PID, stat, err, spec.StartTicks, "") != nil || err != nil {
			// The target exited (its inspector with it), or can no longer be read, and so
			// neither watched nor closed by this closer.
			st.Remove()
			return 0
		}
		if st.Inode == 0 {
			if why, _ := target.HeldReason(fs, spec.PID); why != "" {
				// Time the target cannot run does not count: it opens its inspector
				// only once it runs again.
				st.Until = st.Until.Add(now.Sub(last))
				st.Note = "the target was " + why
			}
			if addr, inode := FreshInspector(ctx, fs, spec.PID, known, dial, spec.Port); inode != 0 {
				st.Inode, st.Inspector, st.State = inode, addr, "open"
				seenAt = now
				_ = st.Write()
			} else if now.After(st.Until) {
				st.State = "gave up"
				st.Note = fmt.Sprintf("no inspector opened within %s of the signal (time the process could run)", spec.Bound)
				_ = st.Write()
				return 0
			}
		}
		last = now
		if st.Inode != 0 {
			if !ownedByParent && held.count() > 0 {
				if open, err := inspectorsock.ListeningOwned(fs, spec.PID, st.Inode); err == nil && !open {
					held.closeAll() // the close has begun: see heldSockets.closeAll
				}
			}
			closed, err := inspectorsock.ClosedFor(fs, spec.PID, st.Inode, model.PortOf(st.Inspector), &pending)
			if err == nil && closed {
				st.Remove()
				return 0
			}
			if !ownedByParent && now.Sub(lastAttempt) >= time.Second && now.Sub(seenAt) >= closerSettle {
				lastAttempt = now
				if closer == nil {
					closer = &inspectorsock.Closer{Fs: fs, Pid: spec.PID, Addr: st.Inspector, Inode: st.Inode, Dial: dial, Scheduled: queuedByParent, CloseNow: spec.CloseNow}
				}
				st.State, st.Note = "closing", ""
				if err := closer.Attempt(ctx); err != nil {
					st.Note = err.Error()
				}
				_ = st.Write()
			}
		}
		time.Sleep(closerPoll(time.Since(start)))
	}
}

// FreshInspector finds a listening socket of pid that is not among known and answers as
// Node's inspector (/json/version), or that listens on expect (the port SIGUSR1 opens it on,
// 0 when that is random): the inspector a signal opened. Only sockets that the inspector's
// thread may watch are asked (classifyListeners): one the app's own loop watches, or
// another process's, joins known and is never asked; one whose loop cannot be told yet
// (the inspector's thread still starting) is looked at again on the next call. It returns
// the dial address and inode (0 when there is none yet).
func FreshInspector(ctx context.Context, fs probes.FS, pid int, known map[uint64]bool, dial attach.Dialer, expect int) (string, uint64) {
	listening, err := fs.ReadListeningTCP(pid)
	if err != nil {
		return "", 0
	}
	var fresh []probes.Socket
	for _, s := range listening {
		if !known[s.Inode] {
			fresh = append(fresh, s)
		}
	}
	if len(fresh) == 0 {
		return "", 0
	}
	owned, err := fs.SocketInodes(pid)
	if err != nil {
		return "", 0
	}
	var ask []probes.Socket
	var inodes []uint64
	for _, s := range fresh {
		if !owned[s.Inode] {
			known[s.Inode] = true // another process's
			continue
		}
		if expect != 0 && s.LocalPort == expect {
			// The port the signal opens it on: no need to ask (a request in the
			// inspector's first milliseconds is one more thing racing its start).
			return inspectorsock.DialAddr(s.Local), s.Inode
		}
		ask = append(ask, s)
		inodes = append(inodes, s.Inode)
	}
	if len(ask) == 0 {
		return "", 0
	}
	loops, err := inspectorsock.ClassifyListeners(fs, pid, inodes)
	if err != nil {
		return "", 0
	}
	for _, s := range ask {
		if loops.App[s.Inode] {
			known[s.Inode] = true // one the app's own loop watches
			continue
		}
		if !loops.OffMain[s.Inode] {
			continue // its loop cannot be told yet: not asked
		}
		addr := inspectorsock.DialAddr(s.Local)
		probe, cancel := context.WithTimeout(ctx, time.Second)
		_, err := attach.ProbeVersion(probe, addr, dial)
		cancel()
		switch {
		case err == nil:
			return addr, s.Inode
		case ctx.Err() != nil:
			return "", 0
		case !errors.Is(err, attach.ErrNotInspector):
			// No answer. The inspector answers from its own thread even while the main
			// thread is busy, unless the whole process is stopped or frozen: then ask
			// again once it runs; otherwise it is not an inspector.
			if why, _ := target.HeldReason(fs, pid); why != "" {
				continue
			}
		}
		known[s.Inode] = true // a worker's socket: never asked again
	}
	return "", 0
}
