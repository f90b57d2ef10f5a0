package closer

import (
	"context"
	"fmt"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/inspectorsock"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/target"
	"github.com/nodeinspect/nodeinspect/probes"
)

// DetachResult is what `nodeinspect detach` did.
type DetachResult struct {
	PID int `json:"pid"`
	// Recorded is the state a closer recorded for the process (nil when none was).
	Recorded *State `json:"recorded"`
	// Closed and StillOpen are inspector addresses.
	Closed    []string `json:"closed"`
	StillOpen []string `json:"still_open"`
	// NotOurs are inspectors open that nodeinspect did not open (closed only with --force).
	NotOurs []string `json:"not_ours"`
	// Notes say why something is still open.
	Notes []string `json:"notes"`
}

// detachWait is how long detach waits for a close to take effect.
const detachWait = 3 * time.Second

// Detach closes the inspector that nodeinspect opened in pid (as its closer recorded it),
// or with force every inspector pid has open. It closes the way the closer does: other
// clients are disconnected first, so the target never blocks. It first prunes the state
// of targets that are gone (PruneState).
func Detach(ctx context.Context, fs probes.FS, pid int, force bool) (*DetachResult, error) {
	if !fs.IsOwn() {
		return nil, fmt.Errorf("%w: %s is not this system's /proc; run detach where the process runs", model.ErrAttachRefused, fs.Root)
	}
	_, _ = PruneState(fs) // state of targets that are gone: best effort
	st, err := fs.ReadStat(pid)
	if err := target.CheckGone(pid, st, err, 0, ""); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, target.ClassifyReadError(pid, err)
	}
	res := &DetachResult{PID: pid, Closed: []string{}, StillOpen: []string{}, NotOurs: []string{}, Notes: []string{}}
	rec, err := ReadState(pid, st.StartTicks)
	if err != nil {
		res.Notes = append(res.Notes, err.Error())
	}
	res.Recorded = rec
	var dial attach.Dialer
	if same, err := probes.SameNetNS(fs, pid); err == nil && !same {
		dial = attach.DialInNetNS(fs.PidPath(pid, "ns", "net"))
	}
	ours := map[uint64]string{}
	if rec != nil {
		if rec.Inode != 0 {
			if open, _ := inspectorsock.ListeningOwned(fs, pid, rec.Inode); open {
				ours[rec.Inode] = rec.Inspector
			}
		} else {
			known := map[uint64]bool{}
			for _, k := range rec.Known {
				known[k] = true
			}
			if addr, inode := FreshInspector(ctx, fs, pid, known, dial, 0); inode != 0 {
				ours[inode] = addr // opened late, after the closer gave up
			}
		}
	}
	all, err := openInspectors(ctx, fs, pid, dial)
	if err != nil {
		return nil, err
	}
	targets := map[uint64]string{}
	for inode, addr := range ours {
		targets[inode] = addr
	}
	for inode, addr := range all {
		if _, ok := ours[inode]; ok {
			continue
		}
		if force {
			targets[inode] = addr
		} else {
			res.NotOurs = append(res.NotOurs, addr)
		}
	}
	for inode, addr := range targets {
		// Closed at once (attach.CloseNow): a queued close would wait for a loop that may
		// be blocked in JavaScript.
		c := &inspectorsock.Closer{Fs: fs, Pid: pid, Addr: addr, Inode: inode, Dial: dial, CloseNow: true}
		if closeAndWait(ctx, c) {
			res.Closed = append(res.Closed, addr)
		} else {
			res.StillOpen = append(res.StillOpen, addr)
			if c.Scheduled {
				res.Notes = append(res.Notes, fmt.Sprintf("the close of %s was sent: it runs when the process's main thread answers the inspector (a system call or native code holds it)", addr))
			}
		}
	}
	if rec != nil && len(res.StillOpen) == 0 && rec.State != "waiting" {
		rec.Remove()
	}
	return res, nil
}

// closeAndWait runs c until the inspector's listening socket is gone or detachWait passes.
func closeAndWait(ctx context.Context, c *inspectorsock.Closer) bool {
	deadline := time.Now().Add(detachWait)
	var err error
	var pending time.Time
	for {
		if closed, cerr := inspectorsock.ClosedFor(c.Fs, c.Pid, c.Inode, model.PortOf(c.Addr), &pending); cerr == nil && closed {
			return true
		}
		if time.Now().After(deadline) {
			_ = err
			return false
		}
		err = c.Attempt(ctx)
		time.Sleep(100 * time.Millisecond)
	}
}

// openInspectors finds every inspector pid has open: its listening sockets that the
// inspector's thread may watch (classifyListeners: the app's own servers are never asked)
// and that answer /json/version as Node's inspector, by inode.
func openInspectors(ctx context.Context, fs probes.FS, pid int, dial attach.Dialer) (map[uint64]string, error) {
	listening, err := fs.ReadListeningTCP(pid)
	if err != nil {
		return nil, fmt.Errorf("read the listening sockets of process %d: %w", pid, err)
	}
	owned, err := fs.SocketInodes(pid)
	if err != nil {
		return nil, target.ClassifyReadError(pid, err)
	}
	var inodes []uint64
	for _, s := range listening {
		if owned[s.Inode] {
			inodes = append(inodes, s.Inode)
		}
	}
	loops, err := inspectorsock.ClassifyListeners(fs, pid, inodes)
	if err != nil {
		return nil, target.ClassifyReadError(pid, err)
	}
	out := map[uint64]string{}
	for _, s := range listening {
		if !owned[s.Inode] || !loops.OffMain[s.Inode] {
			continue
		}
		probe, cancel := context.WithTimeout(ctx, detachProbeTimeout)
		_, err := attach.ProbeVersion(probe, inspectorsock.DialAddr(s.Local), dial)
		cancel()
		if err == nil {
			out[s.Inode] = inspectorsock.DialAddr(s.Local)
		}
	}
	return out, nil
}

// detachProbeTimeout bounds one /json/version probe of a listening socket.
const detachProbeTimeout = 500 * time.Millisecond
