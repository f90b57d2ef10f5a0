package report

import (
	"sort"
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// The table-shaped views (fds, sockets, mem) build their tables here, once, for the human
// formats and for Markdown alike.

// peerPortRuns is how many runs of local ports a peer row lists before "… and N more".
const peerPortRuns = 5

// fdTable is the fd table: FD TYPE STATE LOCAL REMOTE SIZE TARGET. TARGET comes last, as
// lsof's NAME and ps's COMMAND do, so a name with spaces cannot shift the columns before it.
// STATE is the socket's state, DELETED for a file unlinked while open (its SIZE is disk
// space still held), or memfd for anonymous memory files, which always read as deleted.
// Verbose adds the socket queues and inode.
func (r *renderer) fdTable(s *model.Snapshot) *table {
	cols := []column{{title: "FD", right: true}, {title: "TYPE"}, {title: "STATE"}, {title: "LOCAL"}, {title: "REMOTE"}, {title: "SIZE", right: true}}
	if r.verbose {
		cols = append(cols, column{title: "RECV-Q", right: true}, column{title: "SEND-Q", right: true}, column{title: "INODE", right: true})
	}
	withHandles := s.Handles != nil
	if withHandles {
		cols = append(cols, column{title: "HANDLE"})
	}
	cols = append(cols, column{title: "TARGET", flex: true})
	t := &table{cols: cols}
	cwStyle := closeWaitStyle(s.Findings)
	deletedStyle := severityStyle(worstSeverity(s.Findings, model.CodeDeletedFilesHeld))
	if deletedStyle == styleNone {
		deletedStyle = styleWarning
	}
	for _, fd := range s.FDs.List {
		row := []cell{txt(strconv.Itoa(fd.FD)), txt(safe(fd.Type))}
		var state, local, remote cell
		var queues []cell
		if so := fd.Socket; so != nil {
			state = styled(safe(so.State), cwStyle(so.State))
			local, remote = txt(safe(so.Local)), txt(safe(so.Remote))
			queues = []cell{txt(strconv.FormatUint(so.RxQueue, 10)), txt(strconv.FormatUint(so.TxQueue, 10)), txt(strconv.FormatUint(so.Inode, 10))}
		} else {
			queues = []cell{{}, {}, {}}
		}
		switch {
		case fd.Deleted && strings.HasPrefix(fd.Target, "/memfd:"):
			// memfd_create files always read as deleted: memory, not disk space.
			state = txt("memfd")
		case fd.Deleted:
			state = styled("DELETED", deletedStyle)
		}
		size := cell{}
		if fd.Size != nil {
			size = txt(cellBytes(uint64(max(*fd.Size, 0))))
		}
		row = append(row, state, local, remote, size)
		if r.verbose {
			row = append(row, queues...)
		}
		if withHandles {
			row = append(row, handleCell(fd.Handle, fd.Owner))
		}
		t.add(append(row, txt(safe(fd.Target)))...)
	}
	return t
}

// fdTitle is the line above the fd table: identity, usage against the limits, deleted files.
func (r *renderer) fdTitle(s *model.Snapshot) []span {
	title := []span{{identity(s.Process), styleBold}, sp(r.sep())}
	if s.FDs == nil {
		return append(title, sp("fds "+missing(s.Warnings)))
	}
	title = append(title, sp("fds "))
	title = append(title, fdUsage(s)...)
	if n, _, _ := s.FDs.DeletedFiles(); n > 0 {
		title = append(title, sp(r.sep()), span{deletedText(s.FDs), styleWarning})
	}
	return title
}

// countOnlyText replaces the fd list when only the count could be read.
const countOnlyText = "the fd list is unreadable without privilege; the count comes from the size of /proc/<pid>/fd (see warnings)"

// textFDs is the fds view.
func (r *renderer) textFDs(s *model.Snapshot) error {
	r.rich(0, 0, r.fdTitle(s)...)
	if s.FDs != nil {
		r.blank()
		if s.FDs.CountedFrom != "" {
			r.line(countOnlyText)
		} else if len(s.FDs.List) == 0 {
			r.line("no open fds")
		} else if err := r.table(r.fdTable(s)); err != nil {
			return err
		}
		if s.FDs.Vanished > 0 {
			r.line(r.paint(styleDim, units.Count(s.FDs.Vanished, "fd", "fds")+" closed while the table was read"))
		}
	}
	r.warningsNote(s.Warnings)
	return nil
}

// stateTable counts TCP sockets by state, CLOSE_WAIT first.
func stateTable(s *model.Snapshot) *table {
	t := &table{cols: []column{{title: "STATE"}, {title: "COUNT", right: true}}}
	cw := closeWaitStyle(s.Findings)
	for _, k := range stateOrder(s.Sockets.ByState) {
		t.add(styled(safe(k), cw(k)), txt(strconv.Itoa(s.Sockets.ByState[k])))
	}
	return t
}

// directionText is the DIR column: "in" for connections clients opened to one of the
// process's listeners, "out" for connections the process opened ("" when unknown, as in a
// snapshot saved before directions were recorded).
func directionText(d string) string {
	switch d {
	case model.DirectionInbound:
		return "in"
	case model.DirectionOutbound:
		return "out"
	}
	return ""
}

// peerTable lists the TCP peer groups, CLOSE_WAIT first, then in the model's order
// (largest first).
func (r *renderer) peerTable(s *model.Snapshot) *table {
	t := &table{cols: []column{{title: "REMOTE"}, {title: "DIR"}, {title: "STATE"}, {title: "COUNT", right: true}, {title: "LOCAL PORTS", flex: true}}}
	groups := append([]model.PeerGroup(nil), s.Sockets.ByPeer...)
	sort.SliceStable(groups, func(i, j int) bool {
		return groups[i].State == "CLOSE_WAIT" && groups[j].State != "CLOSE_WAIT"
	})
	runs := peerPortRuns
	if r.verbose {
		runs = 0
	}
	cw := closeWaitStyle(s.Findings)
	for _, g := range groups {
		t.add(txt(safe(peerEndpoint(g))), txt(directionText(g.Direction)), styled(safe(g.State), cw(g.State)), txt(strconv.Itoa(g.Count)), txt(compressPorts(g.LocalPorts, runs, r.ellipsis())))
	}
	return t
}

// socketsTitle is "pid 4242 node · 444 sockets: tcp 440, unix 3".
func (r *renderer) socketsTitle(s *model.Snapshot) []span {
	title := []span{{identity(s.Process), styleBold}, sp(r.sep())}
	if s.Sockets == nil {
		return append(title, sp("sockets "+missing(s.Warnings)))
	}
	total := 0
	for _, n := range s.Sockets.ByProto {
		total += n
	}
	title = append(title, sp(units.Count(total, "socket", "sockets")))
	if total > 0 {
		title = append(title, sp(": "))
		title = append(title, joinCounts(s.Sockets.ByProto, countsByValue(s.Sockets.ByProto), nil)...)
	}
	return title
}

// textSockets is the sockets view: counts by state, then by peer.
func (r *renderer) textSockets(s *model.Snapshot) error {
	r.rich(0, 0, r.socketsTitle(s)...)
	if so := s.Sockets; so != nil {
		r.blank()
		if len(so.ByState) == 0 {
			r.line("no TCP sockets")
		} else {
			r.line(r.paint(styleBold, "TCP sockets by state"))
			if err := r.table(stateTable(s)); err != nil {
				return err
			}
		}
		if len(so.ByPeer) > 0 {
			r.blank()
			r.line(r.paint(styleBold, "TCP connections by peer"))
			if err := r.table(r.peerTable(s)); err != nil {
				return err
			}
		}
		if so.Unmatched > 0 {
			r.blank()
			r.rich(0, 0, sp(units.Count(so.Unmatched, "socket fd", "socket fds")+" matched no socket table (raw, packet or other families)"))
		}
	}
	r.warningsNote(s.Warnings)
	return nil
}

// memRow is one row of the memory table: what, the size, and the kernel file it comes from.
type memRow struct {
	name   string
	value  *uint64
	source string
}

// memoryTable is MEMORY SIZE BYTES SOURCE, with "n/a" for what could not be measured.
func memoryTable(m *model.Memory) *table {
	rows := []memRow{
		{"rss", m.RSSBytes, "status VmRSS"},
		{"pss", m.PSSBytes, "smaps_rollup Pss"},
		{"anon", m.AnonBytes, "status RssAnon"},
		{"file", m.FileBytes, "status RssFile"},
		{"shmem", m.ShmemBytes, "status RssShmem"},
		{"swap", m.SwapBytes, "status VmSwap"},
		{"peak", m.PeakRSSBytes, "status VmHWM"},
	}
	if m.HostTotalBytes != nil {
		rows = append(rows, memRow{"host_total", m.HostTotalBytes, "meminfo MemTotal"})
	}
	return sizeTable("MEMORY", rows, "SOURCE")
}

// heapTable is the V8 heap: used, total, limit, external, array buffers.
func heapTable(h *model.Heap) *table {
	source := "V8"
	if h.Source != "" {
		source = "V8 via " + safe(h.Source)
	}
	rows := []memRow{
		{"used", h.UsedBytes, source},
		{"total", h.TotalBytes, source},
		{"limit", h.LimitBytes, source},
		{"external", h.ExternalBytes, source},
		{"array_buffers", h.ArrayBuffersBytes, source},
	}
	if h.OldSpaceUsedBytes != nil || h.OldSpaceLimitBytes != nil {
		rows = append(rows, memRow{"old_space_used", h.OldSpaceUsedBytes, source}, memRow{"old_space_limit", h.OldSpaceLimitBytes, source})
	}
	return sizeTable("HEAP", rows, "SOURCE")
}

// sizeTable renders rows of sizes with their raw byte counts side by side.
func sizeTable(what string, rows []memRow, last string) *table {
	t := &table{cols: []column{{title: what}, {title: "SIZE", right: true}, {title: "BYTES", right: true}, {title: last}}}
	for _, row := range rows {
		raw := notAvailable
		if row.value != nil {
			raw = strconv.FormatUint(*row.value, 10)
		}
		t.add(txt(row.name), txt(optCellBytes(row.value)), txt(raw), txt(row.source))
	}
	return t
}

// heapUsage says how full the heap is: "heap used is 67.0% of total, 2.0% of the limit".
func heapUsage(h *model.Heap) string {
	if h.UsedBytes == nil {
		return ""
	}
	var parts []string
	if h.TotalBytes != nil {
		if p := ratioPercent(*h.UsedBytes, *h.TotalBytes); p != "" {
			parts = append(parts, p+" of total")
		}
	}
	if h.LimitBytes != nil {
		if p := ratioPercent(*h.UsedBytes, *h.LimitBytes); p != "" {
			parts = append(parts, p+" of the limit")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	out := "heap used is " + parts[0]
	if len(parts) > 1 {
		out += ", " + parts[1]
	}
	return out
}

// heapMissing explains an absent heap: it is only known when asked.
const heapMissing = "V8 heap: not known (/proc cannot see inside V8: process.memoryUsage() in the process can)"

// textMem is the mem view.
func (r *renderer) textMem(s *model.Snapshot) error {
	title := []span{{identity(s.Process), styleBold}, sp(r.sep())}
	if s.Memory == nil {
		r.rich(0, 0, append(title, sp("memory "+missing(s.Warnings)))...)
		r.warningsNote(s.Warnings)
		return nil
	}
	r.rich(0, 0, append(title, sp("memory"))...)
	r.blank()
	if err := r.table(memoryTable(s.Memory)); err != nil {
		return err
	}
	r.blank()
	if h := s.Memory.Heap; h != nil {
		if err := r.table(heapTable(h)); err != nil {
			return err
		}
		if u := heapUsage(h); u != "" {
			r.line(r.paint(severityStyle(worstSeverity(s.Findings, model.CodeHeapNearLimit)), u))
		}
	} else {
		r.line(r.paint(styleDim, heapMissing))
	}
	r.memContainer(s)
	r.warningsNote(s.Warnings)
	return nil
}
