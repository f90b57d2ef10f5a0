package ps

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/container"
	"github.com/nodeinspect/nodeinspect/inspect/inspectorsock"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/probes"
)

// Options controls `nodeinspect ps`.
type Options struct {
	// Any lists every process, not only Node.js ones.
	Any bool
	// Thresholds for the flags.
	Thresholds rules.Thresholds
	// Sample is the window shared by all processes: the event loop is sampled and what
	// moves (socket queues, accept queues) is watched over it, for every process at once
	// (0: no window, no loop verdict, and no flag that needs one: LISTEN_BACKLOG,
	// STALLED_SOCKETS). A main thread whose verdict is decided early (an idle loop,
	// sharedSettle) is not watched for the rest of it.
	Sample time.Duration
	// Container keeps only the processes of one container: a prefix of its id, or its pod
	// uid (--container).
	Container string
}

// Scan lists the Node.js processes of the proc tree with the flags `report` would raise from
// the same reads. It makes one pass over all processes, reads the socket tables once per
// network namespace, and samples every main thread and watches every process in one shared
// window (psWindow), so a host with many processes still answers in about the window's time.
func Scan(ctx context.Context, c *inspect.Collector, opt Options) (*model.PSResult, error) {
	now := c.Now().UTC()
	res := &model.PSResult{Schema: model.Schema, TakenAt: now, Processes: []model.PSRow{}, Warnings: []string{}}
	stats, errs := c.FS.ScanProcesses()
	if len(stats) == 0 && len(errs) > 0 {
		return nil, fmt.Errorf("scan processes under %s: %w", c.FS.Root, errs[0])
	}
	tree := probes.NewTree(stats)
	boot, bootErr := c.BootTime()
	if bootErr != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("uptimes unknown: %v", bootErr))
	}

	var rows []*psWork
	deniedFDs := 0
	containers := container.Cache{}
	for _, st := range stats {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if st.IsKernelThread() {
			continue
		}
		// The exe link alone decides here (one readlink per process); without the privilege
		// to read it, DetectNode's command-line fallback. Embedders that only map libnode
		// are found by `report`, not by this scan.
		isNode, err := c.FS.DetectNodeByExe(st.PID)
		if err != nil && probes.IsDenied(err) {
			isNode, _, _ = c.FS.DetectNode(st.PID)
		}
		if !isNode && !opt.Any {
			continue
		}
		w := &psWork{stat: st, snap: &model.Snapshot{Process: &model.Process{
			PID: st.PID, PPID: st.PPID, PGID: st.PGID, SID: st.SID, Comm: st.Comm,
			State: st.State, IsNode: isNode, StartTicks: st.StartTicks,
			Orphan: probes.IsOrphan(tree, st),
		}}}
		status, err := c.FS.ReadStatus(st.PID)
		if err == nil {
			w.row.User = c.UserName(status.UIDs[0])
			w.row.RSSBytes = status.VmRSS
		} else if probes.IsGone(err) {
			continue
		}
		if !psContainer(c, w, &status, err == nil, opt.Container, containers) {
			continue
		}
		if lim, err := c.FS.ReadLimits(st.PID); err == nil {
			if soft, hard, ok := lim.OpenFiles(); ok {
				w.snap.Limits = &model.Limits{OpenFilesSoft: soft, OpenFilesHard: hard}
			}
		}
		entries, _, err := c.FS.ReadFDs(st.PID)
		if err == nil {
			w.fds = entries
		} else if probes.IsDenied(err) {
			deniedFDs++
			if n, ok, _ := c.FS.CountFDs(st.PID); ok {
				w.fdCount = &n
			}
		}
		w.row.Cmdline, _ = c.FS.ReadCmdline(st.PID)
		if w.row.Cmdline == nil {
			w.row.Cmdline = []string{}
		}
		for _, ch := range tree.Children(st.PID) {
			z := ch.State == "Z"
			w.snap.Children = append(w.snap.Children, &model.Child{PID: ch.PID, PPID: ch.PPID, State: ch.State, Comm: ch.Comm, Zombie: z})
			if z {
				w.row.Zombies++
			}
		}
		rows = append(rows, w)
	}
	// The window, one step for every process at once. Its start is the fd join (the
	// socket tables, once per namespace) and the first read of what must be watched; its
	// end re-reads that, opt.Sample later. Anything else that samples over a window
	// (the event loop) runs between the two, for all processes together.
	joinSocketsByNamespace(c, rows, res)
	win := openPSWindow(c, rows, opt, res)
	psSampleLoops(ctx, c, rows, opt.Sample, res)
	closePSWindow(ctx, c, win, opt, res)
	retryPSInspector(c, rows)
	if deniedFDs > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("fd tables of %d processes unreadable without privilege: their CLOSE_WAIT counts are unknown, and their fd counts too on kernels before 6.2 (run with sudo; in a container: CAP_SYS_PTRACE)", deniedFDs))
	}

	for _, w := range rows {
		r := &w.row
		r.PID, r.PPID, r.Orphan = w.stat.PID, w.stat.PPID, w.snap.Process.Orphan
		r.Snapshot, r.CPUTicks, r.StartTicks = w.snap, w.stat.UTime+w.stat.STime, w.stat.StartTicks
		if bootErr == nil {
			t := probes.StartTime(boot, w.stat.StartTicks).UTC()
			up := now.Sub(t).Seconds()
			r.StartedAt, r.UptimeSeconds = &t, &up
		}
		if w.snap.Limits != nil {
			r.OpenFilesSoft = w.snap.Limits.OpenFilesSoft
		}
		if w.snap.FDs != nil {
			open := w.snap.FDs.Open
			r.FDsOpen = &open
			if !w.socketsUnknown {
				// Unknown (null) when a table could not be read: never a 0 that was not counted.
				cw := w.snap.Sockets.ByState["CLOSE_WAIT"]
				r.CloseWait = &cw
			}
		} else if w.fdCount != nil {
			w.snap.FDs = &model.FDTable{Open: *w.fdCount, CountedFrom: "dir_size"}
			r.FDsOpen = w.fdCount
		}
		if l := w.snap.EventLoop; l != nil {
			verdict := l.Verdict
			r.Loop = &verdict
		}
		r.Findings = rules.Evaluate(w.snap, w.evalContext(opt.Thresholds))
		r.Flags = []model.Code{}
		for _, f := range r.Findings {
			if !slices.Contains(r.Flags, f.Code) {
				r.Flags = append(r.Flags, f.Code)
			}
			if f.Severity.Rank() > r.Severity.Rank() {
				r.Severity = f.Severity
			}
		}
		res.Processes = append(res.Processes, *r)
	}
	sortPS(res.Processes)
	return res, nil
}

// psWork is one process being read by PS.
type psWork struct {
	stat probes.Stat
	fds  []probes.FDEntry
	// fdCount is the fd count from the directory size when the table was denied.
	fdCount *int
	snap    *model.Snapshot
	row     model.PSRow
	// netns names the network namespace (the socket tables the process's sockets are in).
	netns string
	// listeners are the process's LISTEN socket rows, by inode (backlogs, accept queues).
	listeners map[uint64]probes.Socket
	// The window (window.go): what is re-read at its end and what it showed.
	queueWant       map[uint64]bool
	queueStart      map[uint64]probes.TCPQueue
	queues          *rules.QueueWindow
	listenAfter     map[uint64]uint64
	inspector       inspectorsock.Config
	inspectorInodes map[uint64]bool
	// inspectorRetry is set when the first look for the inspector could not be made.
	inspectorRetry bool
	// socketsUnknown is set when a socket table of the process's namespace could not be
	// read and some of its socket fds stayed unmatched: its CLOSE_WAIT count is unknown.
	socketsUnknown bool
}

// joinSocketsByNamespace reads each network namespace's socket tables once, for the union
// of the socket inodes of the processes in it, and fills every process's FDs and Sockets.
func joinSocketsByNamespace(c *inspect.Collector, rows []*psWork, res *model.PSResult) {
	byNS := map[string][]*psWork{}
	for _, w := range rows {
		if w.fds == nil {
			continue
		}
		ns, err := c.FS.NetNamespace(w.stat.PID)
		if err != nil {
			ns = fmt.Sprintf("pid:%d", w.stat.PID)
		}
		w.netns = ns
		byNS[ns] = append(byNS[ns], w)
	}
	for _, group := range byNS {
		inodes := map[uint64]struct{}{}
		for _, w := range group {
			for _, e := range w.fds {
				if e.Type == "socket" && e.Inode != 0 {
					inodes[e.Inode] = struct{}{}
				}
			}
		}
		sockets := map[uint64]probes.Socket{}
		tablesFailed := false
		if len(inodes) > 0 {
			socks, errs := c.FS.ReadSockets(group[0].stat.PID, func(ino uint64) bool { _, ok := inodes[ino]; return ok })
			for _, e := range errs {
				res.Warnings = append(res.Warnings, fmt.Sprintf("socket table: %v", e))
			}
			tablesFailed = len(errs) > 0
			for _, s := range socks {
				sockets[s.Inode] = s
			}
		}
		index := inspect.IndexOfMap(sockets)
		for _, w := range group {
			w.snap.FDs, w.snap.Sockets = inspect.BuildFDTable(w.fds, 0, index)
			w.socketsUnknown = tablesFailed && w.snap.Sockets.Unmatched > 0
			w.listeners = map[uint64]probes.Socket{}
			for _, fd := range w.snap.FDs.List {
				if fd.Socket != nil && fd.Type == "tcp" && fd.Socket.State == "LISTEN" {
					w.listeners[fd.Socket.Inode] = sockets[fd.Socket.Inode]
				}
			}
		}
	}
}

// sortPS orders rows worst first: severity, then fd use against the limit, then RSS.
func sortPS(rows []model.PSRow) {
	fdUse := func(r model.PSRow) float64 {
		if r.FDsOpen == nil || r.OpenFilesSoft == nil || *r.OpenFilesSoft == 0 {
			return 0
		}
		return float64(*r.FDsOpen) / float64(*r.OpenFilesSoft)
	}
	rss := func(r model.PSRow) uint64 {
		if r.RSSBytes == nil {
			return 0
		}
		return *r.RSSBytes
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if len(a.Flags) != len(b.Flags) {
			return len(a.Flags) > len(b.Flags)
		}
		if fdUse(a) != fdUse(b) {
			return fdUse(a) > fdUse(b)
		}
		if rss(a) != rss(b) {
			return rss(a) > rss(b)
		}
		return a.PID < b.PID
	})
}

// psContainer reads the container of a ps row (without a window: throttling is not
// measured by ps) and reports whether the row passes the --container filter.
func psContainer(c *inspect.Collector, w *psWork, status *probes.Status, statusOK bool, filter string, cache container.Cache) bool {
	if !statusOK {
		status = nil
	}
	ctr, win := cache.Read(c.Containers(), w.stat.PID, status)
	w.snap.Container = ctr
	if ctr != nil && win != nil && win.CPUDir != nil {
		n := win.CPUStart.Throttled
		w.row.CPUThrottledPeriodsTotal = &n
	}
	if name := ctr.ShortName(); name != "" {
		w.row.Container = &name
	}
	return filter == "" || ctr.Matches(filter)
}
