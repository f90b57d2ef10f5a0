package inspect

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/container"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/inspect/session"
	"github.com/nodeinspect/nodeinspect/inspect/target"
	"github.com/nodeinspect/nodeinspect/probes"
)

// Sections selects what Collect reads. The process identity is always read.
type Sections uint

// The sections a command can ask for.
const (
	// SectionLimits reads /proc/<pid>/limits.
	SectionLimits Sections = 1 << iota
	// SectionFDs reads the fd table and joins sockets to the namespace's net tables.
	SectionFDs
	// SectionMemory reads status and smaps_rollup.
	SectionMemory
	// SectionTree scans every process for the child tree and orphans.
	SectionTree
	// SectionLoop samples the main thread for event-loop liveness.
	SectionLoop

	// SectionAll is everything `report` reads.
	SectionAll = SectionLimits | SectionFDs | SectionMemory | SectionTree | SectionLoop
)

// Options controls one collection.
type Options struct {
	// Sections to read.
	Sections Sections
	// Any inspects processes that are not Node.js instead of failing with ErrNotNode.
	Any bool
	// Sample is the event-loop sampling window (0 turns sampling off).
	Sample time.Duration
	// SampleEvery is the interval between two samples within the window.
	SampleEvery time.Duration
	// Thresholds for the rules.
	Thresholds rules.Thresholds
	// Attach asks the process itself through its inspector (--attach), after the loop
	// sample shows its event loop turning.
	Attach bool
	// AttachTimeout is the time limit of each attach step (DefaultAttachTimeout when 0).
	AttachTimeout time.Duration
	// CloserBound is how long the closer waits for an inspector that opens late
	// (DefaultCloserBound when 0); Deadman is the dead-man's switch armed in the target
	// (DefaultDeadman when 0). Tests shorten both (NODEINSPECT_CLOSER_BOUND,
	// NODEINSPECT_DEADMAN).
	CloserBound time.Duration
	Deadman     time.Duration
	// AllowSIGUSR1Users attaches to a process known to use SIGUSR1 itself (pm2).
	AllowSIGUSR1Users bool
	// SocketSource forces how sockets are read: "dump" (the namespace's tables), "lookup"
	// (TCP sockets one by one, probes.ReadTCPByFD, where possible) or "" to decide by the
	// namespace's size. For tests and benchmarks (NODEINSPECT_SOCKET_SOURCE).
	SocketSource string
}

// DefaultSampleWindow is the event-loop sampling window of the contract (≤ 300 ms).
const DefaultSampleWindow = 300 * time.Millisecond

// DefaultSampleEvery reads the main thread every 5 ms: 60 reads of three small files in the
// default window, cheap for the target (reads take no lock the target contends on) and
// frequent enough that an idle loop, which spends nearly all its time in epoll_wait, is seen.
const DefaultSampleEvery = 5 * time.Millisecond

// Collector reads snapshots from one proc filesystem.
type Collector struct {
	// FS is the proc root.
	FS probes.FS
	// Now returns the current time (injected for tests).
	Now func() time.Time
	// UserName maps a uid to a name (injected for tests).
	UserName func(uid int) string
	// BootClock gives this system's boot time from its clocks (exact, where btime is whole
	// seconds); nil reads btime alone. NewCollector sets it for this system's own /proc only.
	BootClock func() (time.Time, error)
	// CgroupRoot is prefixed to every cgroup mount point read from mountinfo ("" on a real
	// system; a fake cgroup tree in tests).
	CgroupRoot string
	// ctr reads the container section (built at first use, since tests build a Collector
	// as a literal), and reads the reader's own cgroup mounts once.
	ctr     *container.Reader
	ctrOnce sync.Once
}

// containers is the Collector's container reader.
func (c *Collector) Containers() *container.Reader {
	c.ctrOnce.Do(func() { c.ctr = &container.Reader{FS: c.FS, CgroupRoot: c.CgroupRoot, Now: c.Now} })
	return c.ctr
}

// NewCollector returns a Collector over fs with the real clock and user database.
func NewCollector(fs probes.FS) *Collector {
	return &Collector{FS: fs, Now: time.Now, UserName: probes.UserName, BootClock: bootClockFor(fs)}
}

// collection carries state between the steps of one Collect.
type collection struct {
	// Target holds what the attach shares: the pid and its stat, the snapshot being
	// filled, the warnings and the session kept open.
	*session.Target
	c       *Collector
	opt     Options
	status  *probes.Status
	sockets map[uint64]probes.Socket
	// listenAfter holds the accept-queue length of LISTEN sockets re-read after the sample
	// window, by inode; nil when not re-read.
	listenAfter map[uint64]uint64
	// queueWant, queueStart and queueStartAt are the connections whose queues are re-read
	// at the end of the window, their first read and its time; queues is both reads, nil
	// when not re-read (collect_sockets.go).
	queueWant    map[uint64]bool
	queueStart   map[uint64]probes.TCPQueue
	queueStartAt time.Time
	queues       *rules.QueueWindow
	// inspectorInodes are the inspector's listening sockets found through epoll.
	inspectorInodes map[uint64]bool
	// ctrWindow is what the container section's second read, at the end of the window,
	// needs.
	ctrWindow *container.Window
}

// Collect reads one snapshot of pid and runs the rules over it. Errors wrap ErrNoProcess,
// ErrPermission or ErrNotNode when those decide the outcome; sections that could not be
// read are nil with a sentence in Warnings.
func (c *Collector) Collect(ctx context.Context, pid int, opt Options) (*model.Snapshot, error) {
	snap, _, err := c.collect(ctx, pid, opt, false)
	return snap, err
}

// CollectAttached is Collect with opt.Attach, keeping the inspector session open for
// repeated heap reads (watch --attach). The session is nil when the attach did not succeed
// (the snapshot's Attach says why); the caller must Close a non-nil session on every path.
func (c *Collector) CollectAttached(ctx context.Context, pid int, opt Options) (*model.Snapshot, *session.HeapSession, error) {
	opt.Attach = true
	return c.collect(ctx, pid, opt, true)
}

func (c *Collector) collect(ctx context.Context, pid int, opt Options, keepSession bool) (*model.Snapshot, *session.HeapSession, error) {
	col, err := c.newCollection(pid, opt)
	if err != nil {
		return nil, nil, err
	}
	col.KeepSession = keepSession

	col.readContainer()
	// The loop is sampled while the rest is read: the window is wall-clock time the
	// sampler spends sleeping, so the scans fit inside it.
	var loopDone chan struct{}
	if opt.Sections&SectionLoop != 0 && opt.Sample > 0 {
		loopDone = make(chan struct{})
		go func() {
			defer close(loopDone)
			col.sampleLoop(ctx)
		}()
	}
	if opt.Sections&SectionLimits != 0 {
		col.readLimits()
	}
	if opt.Sections&SectionFDs != 0 {
		col.readFDs()
		if loopDone != nil {
			col.startQueueWindow()
		}
		col.findInspector()
	}
	if opt.Sections&SectionMemory != 0 {
		col.readMemory()
	}
	if opt.Sections&SectionTree != 0 {
		col.readTree()
	}
	if loopDone != nil {
		<-loopDone
		col.recheckListenQueues()
		col.endQueueWindow(ctx)
	}
	col.finishContainer(loopDone != nil)
	if opt.Attach {
		if loopDone == nil {
			// An attach never starts without knowing the loop turns.
			col.opt.Sample, col.Opt.Sample = session.AttachSampleWindow, session.AttachSampleWindow
			col.sampleLoop(ctx)
		}
		if err := col.Attach(ctx); err != nil {
			return nil, nil, err
		}
	}
	if err := col.recheckIdentity(); err != nil {
		if col.Heap != nil {
			col.Heap.Close(ctx)
		}
		return nil, nil, err
	}
	ectx := col.evalContext()
	col.addSocketFacts(&ectx)
	col.Snap.Findings = rules.Evaluate(col.Snap, ectx)
	return col.Snap, col.Heap, nil
}

// newCollection starts a collection of pid: it reads the process's identity and refuses
// (ErrNotNode) a process that is not Node.js unless opt.Any.
func (c *Collector) newCollection(pid int, opt Options) (*collection, error) {
	if opt.Thresholds == (rules.Thresholds{}) {
		opt.Thresholds = rules.DefaultThresholds()
	}
	col := &collection{c: c, opt: opt, Target: &session.Target{FS: c.FS, PID: pid, Snap: &model.Snapshot{
		Schema:   model.Schema,
		TakenAt:  c.Now().UTC(),
		Findings: []model.Finding{},
		Warnings: []string{},
	}, Opt: session.Options{AttachTimeout: opt.AttachTimeout, CloserBound: opt.CloserBound, Deadman: opt.Deadman,
		AllowSIGUSR1Users: opt.AllowSIGUSR1Users, Sample: opt.Sample}}}
	if err := col.readIdentity(); err != nil {
		return nil, err
	}
	if p := col.Snap.Process; !p.IsNode && p.Exe != nil {
		// A renamed node binary is Node.js: its executable carries Node's markers.
		if ok, _ := target.IsNodeBinary(c.FS, pid); ok {
			p.IsNode, p.NodeBy = true, "binary"
		}
	}
	if !col.Snap.Process.IsNode && !opt.Any {
		exe := "unreadable"
		if col.Snap.Process.Exe != nil {
			exe = *col.Snap.Process.Exe
		}
		return nil, fmt.Errorf("process %d (%s, exe %s): %w", pid, col.Snap.Process.Comm, exe, model.ErrNotNode)
	}
	return col, nil
}

// readIdentity fills Process from stat, status, cmdline and exe.
func (col *collection) readIdentity() error {
	fs, pid := col.c.FS, col.PID
	st, err := fs.ReadStat(pid)
	if err != nil {
		return target.ClassifyReadError(pid, err)
	}
	col.Stat = st
	if st.Exited() {
		// A zombie's exe link and fd table are gone: it is no longer a Node.js process
		// to inspect, and saying "not Node.js" would send the user the wrong way.
		return exitedError(pid, st)
	}
	p := &model.Process{
		PID:        pid,
		PPID:       st.PPID,
		PGID:       st.PGID,
		SID:        st.SID,
		State:      st.State,
		Comm:       st.Comm,
		StartTicks: st.StartTicks,
		Threads:    st.NumThreads,
		Cmdline:    []string{},
		UID:        -1,
	}
	col.Snap.Process = p
	if boot, err := col.c.BootTime(); err == nil {
		t := probes.StartTime(boot, st.StartTicks).UTC()
		p.StartedAt = &t
	} else {
		col.Warn("start time unknown: %v", err)
	}
	if status, err := fs.ReadStatus(pid); err == nil {
		col.status = &status
		p.UID = status.UIDs[0]
		p.User = col.c.UserName(p.UID)
	} else if probes.IsGone(err) {
		return target.ClassifyReadError(pid, err)
	} else {
		col.Warn("process status unreadable: %v", err)
	}
	if cmd, err := fs.ReadCmdline(pid); err == nil {
		p.Cmdline = cmd
	} else if !probes.IsGone(err) {
		col.Warn("command line unreadable: %v", err)
	}
	if exe, err := fs.ReadExe(pid); err == nil {
		p.Exe = &exe
	} else if probes.IsDenied(err) {
		col.Warn("executable path unreadable (%v); run as the process's user or with sudo to read it (in a container: CAP_SYS_PTRACE)", err)
	}
	isNode, by, err := fs.DetectNode(pid)
	p.IsNode, p.NodeBy = isNode, by
	if err != nil && by == "cmdline" {
		col.Warn("Node.js detected from the command line only, since the executable could not be read: %v", err)
	}
	p.Orphan = col.isOrphan()
	return nil
}

// isOrphan applies probes.IsOrphan with the parent read directly (no full scan).
func (col *collection) isOrphan() bool {
	stats := []probes.Stat{col.Stat}
	if parent, err := col.c.FS.ReadStat(col.Stat.PPID); err == nil {
		stats = append(stats, parent)
	}
	return probes.IsOrphan(probes.NewTree(stats), col.Stat)
}

// recheckIdentity reads stat again: a process that exited, or whose pid now names another
// process, must not have its data attributed to it.
func (col *collection) recheckIdentity() error {
	if col.Gone {
		return fmt.Errorf("process %d exited while being read: %w", col.PID, model.ErrNoProcess)
	}
	return target.GoneNow(col.c.FS, col.PID, col.Stat.StartTicks, "while being read")
}

func (col *collection) readLimits() {
	lim, err := col.c.FS.ReadLimits(col.PID)
	if err != nil {
		col.Warn("limits unreadable: %v", err)
		return
	}
	soft, hard, ok := lim.OpenFiles()
	if !ok {
		col.Warn("limits: no \"Max open files\" row in %s", col.c.FS.PidPath(col.PID, "limits"))
		return
	}
	col.Snap.Limits = &model.Limits{OpenFilesSoft: soft, OpenFilesHard: hard}
}
