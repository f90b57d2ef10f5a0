package inspect

import (
	"sort"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/escape"
	"github.com/nodeinspect/nodeinspect/probes"
)

// fdTypeOfProto maps a socket table to the contract's fd type.
var fdTypeOfProto = map[string]string{
	"tcp": "tcp", "tcp6": "tcp", "udp": "udp", "udp6": "udp", "unix": "unix", "netlink": "netlink",
}

// FDType is the contract's fd type of a socket read from the table proto ("tcp6" is "tcp").
func FDType(proto string) string { return fdTypeOfProto[proto] }

// readFDs fills FDs and Sockets: the fd table, each socket joined by inode to the target's
// own network namespace tables.
func (col *collection) readFDs() {
	fs, pid := col.c.FS, col.PID
	early := col.startSocketDump()
	entries, vanished, err := fs.ReadFDs(pid)
	if err != nil {
		if probes.IsDenied(err) {
			if n, ok, _ := fs.CountFDs(pid); ok {
				// The kernel gives the count to anyone who can see the process: enough
				// for EMFILE_RISK, not for types or sockets.
				col.Snap.FDs = &model.FDTable{Open: n, CountedFrom: "dir_size"}
				col.Warn("fd table unreadable: %v; the fd count (%d) comes from the size of %s, but types, targets and sockets need the process's user (sudo -u <user> nodeinspect ...) or sudo (in a container: CAP_SYS_PTRACE)", err, n, fs.PidPath(pid, "fd"))
				return
			}
			col.Warn("fd table unreadable: %v; run as the process's user (sudo -u <user> nodeinspect ...) or with sudo to see fds and sockets (in a container: CAP_SYS_PTRACE)", err)
		} else {
			col.Warn("fd table unreadable: %v", err)
		}
		return
	}
	inodes := SocketInodes(entries)
	var index socketIndex
	tablesFailed := false
	if len(inodes) > 0 {
		var socks []probes.Socket
		var errs []error
		if early != nil {
			dump := <-early
			errs = dump.errs
			for _, so := range dump.sockets {
				if _, ok := inodes[so.Inode]; ok {
					socks = append(socks, so)
				}
			}
		} else {
			socks, errs = col.readSockets(entries, inodes)
		}
		for _, e := range errs {
			col.Warn("socket table: %v", e)
		}
		tablesFailed = len(errs) > 0
		index = newSocketIndex(socks)
	}
	col.Snap.FDs, col.Snap.Sockets = BuildFDTable(entries, vanished, index)
	// Only the listening sockets are kept after the join (for the accept-queue re-read and
	// the backlogs): the rest is in the table now.
	col.sockets = map[uint64]probes.Socket{}
	for _, so := range index {
		if so.State == "LISTEN" {
			col.sockets[so.Inode] = so
		}
	}
	if vanished > 0 {
		col.Warn("%d fds closed while the table was read (the process is opening and closing fds)", vanished)
	}
	switch n := col.Snap.Sockets.Unmatched; {
	case n > 0 && tablesFailed:
		col.Warn("%d socket fds could not be matched to a socket table, since a table could not be read: their states are unknown, and the sockets counts (CLOSE_WAIT among them) leave them out", n)
	case n > 0:
		col.Warn("%d socket fds are in no tcp, udp, unix or netlink table of the process's network namespace (raw, packet or other families)", n)
	}
}

// SocketInodes returns the set of socket inodes of an fd table.
func SocketInodes(entries []probes.FDEntry) map[uint64]struct{} {
	inodes := make(map[uint64]struct{})
	for i := range entries {
		if entries[i].Type == "socket" && entries[i].Inode != 0 {
			inodes[entries[i].Inode] = struct{}{}
		}
	}
	return inodes
}

// socketDump is the result of a socket read started before the fd table was read.
type socketDump struct {
	sockets []probes.Socket
	errs    []error
}

// earlyDumpMinFDs is the fd count from which the namespace's sockets are dumped while the
// fd table is read instead of after it: below it there is little to overlap.
const earlyDumpMinFDs = 4096

// startSocketDump starts dumping the namespace's sockets in the background, to overlap
// with the fd table read, when the process has many fds (the size of its fd directory)
// and they are most of the namespace's TCP sockets (sockstat): then every row is wanted
// anyway. Nil when not started (few fds, or a crowded namespace, where readSockets
// chooses after the table is read).
func (col *collection) startSocketDump() chan socketDump {
	fs, pid := col.c.FS, col.PID
	if col.opt.SocketSource != "" {
		return nil
	}
	n, ok, _ := fs.CountFDs(pid)
	if !ok || n < earlyDumpMinFDs {
		return nil
	}
	if same, err := probes.SameNetNS(fs, pid); err != nil || !same {
		return nil
	}
	stat, err := fs.ReadSockStat(pid)
	if err != nil || stat.TCP > 2*n {
		return nil
	}
	early := make(chan socketDump, 1)
	go func() {
		socks, errs := fs.ReadSockets(pid, nil)
		early <- socketDump{socks, errs}
	}()
	return early
}

// lookupMinNamespace and lookupRatio decide when the process's TCP sockets are looked up
// one by one (probes.ReadTCPByFD, ~7-10 µs a socket) instead of dumping the namespace
// (~1 µs a socket of anyone's): when the namespace holds at least 4096 TCP sockets and ten
// times as many as the process has socket fds.
const (
	lookupMinNamespace = 4096
	lookupRatio        = 10
)

// readSockets reads the rows of the process's sockets: the namespace's tables, or, when
// the namespace is crowded with other processes' TCP sockets, the TCP ones one by one and
// the rest from the tables. Any failure of the lookup falls back to the tables.
func (col *collection) readSockets(entries []probes.FDEntry, inodes map[uint64]struct{}) ([]probes.Socket, []error) {
	fs, pid := col.c.FS, col.PID
	want := func(ino uint64) bool { _, ok := inodes[ino]; return ok }
	if !col.lookupPays(len(inodes)) {
		return fs.ReadSockets(pid, want)
	}
	rows, rest, err := fs.ReadTCPByFD(pid, entries)
	if err != nil {
		return fs.ReadSockets(pid, want)
	}
	if len(rest) == 0 {
		return rows, nil
	}
	more, errs := fs.ReadSockets(pid, func(ino uint64) bool { return rest[ino] }, probes.ProtoUDP, probes.ProtoUnix, probes.ProtoNetlink)
	for _, so := range more {
		delete(rest, so.Inode)
	}
	rows = append(rows, more...)
	if len(rest) > 0 {
		// TCP sockets the lookup did not match (a reused fd, a reuseport sibling): dump.
		tcp, tcpErrs := fs.ReadSockets(pid, func(ino uint64) bool { return rest[ino] })
		rows, errs = append(rows, tcp...), append(errs, tcpErrs...)
	}
	return rows, errs
}

// lookupPays reports whether looking the process's sockets up one by one costs less than
// dumping its namespace (see lookupMinNamespace), which needs the live /proc and our own
// network namespace (the lookup is answered in the caller's).
func (col *collection) lookupPays(sockets int) bool {
	fs, pid := col.c.FS, col.PID
	if same, err := probes.SameNetNS(fs, pid); err != nil || !same || col.opt.SocketSource == "dump" || !fs.IsOwn() {
		// A host's /proc mounted here names processes of another pid namespace: a pid
		// read there is not the process pidfd_open would open.
		return false
	}
	if col.opt.SocketSource == "lookup" {
		return true
	}
	stat, err := fs.ReadSockStat(pid)
	return err == nil && stat.TCP >= lookupMinNamespace && stat.TCP >= lookupRatio*sockets
}

// socketIndex is socket rows sorted by inode, for the join with the fd table: half the
// memory of a map of 100k rows, which matters at the peak of a large table.
type socketIndex []probes.Socket

// newSocketIndex sorts rows by inode (in place) into an index.
func newSocketIndex(rows []probes.Socket) socketIndex {
	sort.Slice(rows, func(i, j int) bool { return rows[i].Inode < rows[j].Inode })
	return socketIndex(rows)
}

// indexOfMap builds an index from a map of rows.
func IndexOfMap(m map[uint64]probes.Socket) socketIndex {
	rows := make([]probes.Socket, 0, len(m))
	for _, so := range m {
		rows = append(rows, so)
	}
	return newSocketIndex(rows)
}

// find returns the row of inode, or nil.
func (x socketIndex) find(inode uint64) *probes.Socket {
	i := sort.Search(len(x), func(i int) bool { return x[i].Inode >= inode })
	if i < len(x) && x[i].Inode == inode {
		return &x[i]
	}
	return nil
}

// buildFDTable joins fd entries with the socket rows of their inodes and counts them.
func BuildFDTable(entries []probes.FDEntry, vanished int, sockets socketIndex) (*model.FDTable, *model.SocketSummary) {
	table := &model.FDTable{ByType: map[string]int{}, Vanished: vanished, List: make([]model.FD, 0, len(entries)), Deleted: new(int), DeletedBytes: new(int64)}
	summary := &model.SocketSummary{ByState: map[string]int{}, ByProto: map[string]int{}, ByPeer: []model.PeerGroup{}}
	type peerKey struct {
		group model.ConnGroup
		state string
	}
	peers := map[peerKey]*model.PeerGroup{}
	for _, e := range entries {
		fd := model.FD{FD: e.FD, Type: e.Type, Target: e.Target, Deleted: e.Deleted, Size: e.Size}
		if e.Deleted {
			fd.Target = strings.TrimSuffix(e.Target, " (deleted)")
		}
		fd.Target = escape.Name(fd.Target)
		if e.Type == "socket" {
			if s := sockets.find(e.Inode); s != nil {
				fd.Type = fdTypeOfProto[s.Proto]
				fd.Socket = &model.Socket{Proto: s.Proto, State: s.State, Local: s.Local, Remote: s.Remote,
					RxQueue: s.RxQueue, TxQueue: s.TxQueue, Inode: s.Inode}
				summary.ByProto[s.Proto]++
				if fd.Type == "tcp" {
					summary.ByState[s.State]++
				}
			} else {
				summary.Unmatched++
			}
		}
		table.ByType[fd.Type]++
		if fd.Deleted && !model.IsAnonymousMemory(fd.Target) {
			*table.Deleted++
			if fd.Size != nil {
				*table.DeletedBytes += *fd.Size
			}
		}
		table.List = append(table.List, fd)
	}
	table.Open = len(table.List)
	// Peers are grouped once every listener is known (a listener may come after its
	// connections in fd order).
	listeners := model.NewListenerSet(table.List)
	for _, fd := range table.List {
		so := fd.Socket
		if so == nil || fd.Type != "tcp" || so.State == "LISTEN" {
			continue
		}
		cg := listeners.GroupOf(so)
		if cg.Direction == model.DirectionInbound {
			cg.Port = 0 // inbound peers are one row per remote host, local ports listed
		}
		key := peerKey{cg, so.State}
		g := peers[key]
		if g == nil {
			g = &model.PeerGroup{Remote: cg.Remote, State: so.State, Direction: cg.Direction}
			if cg.Direction == model.DirectionOutbound {
				port := cg.Port
				g.RemotePort = &port
			}
			peers[key] = g
		}
		g.Count++
		g.LocalPorts = append(g.LocalPorts, model.PortOf(so.Local))
		g.RxQueueBytes += so.RxQueue
		g.TxQueueBytes += so.TxQueue
	}
	for _, g := range peers {
		sort.Ints(g.LocalPorts)
		g.LocalPorts = uniqueInts(g.LocalPorts)
		summary.ByPeer = append(summary.ByPeer, *g)
	}
	sort.Slice(summary.ByPeer, func(i, j int) bool {
		a, b := summary.ByPeer[i], summary.ByPeer[j]
		if (a.State == "CLOSE_WAIT") != (b.State == "CLOSE_WAIT") {
			return a.State == "CLOSE_WAIT"
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Remote != b.Remote {
			return a.Remote < b.Remote
		}
		if a.State != b.State {
			return a.State < b.State
		}
		if a.Direction != b.Direction {
			return a.Direction < b.Direction
		}
		return optInt(a.RemotePort) < optInt(b.RemotePort)
	})
	return table, summary
}

// optInt is *p, or -1 for nil.
func optInt(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

func uniqueInts(sorted []int) []int {
	out := sorted[:0]
	for i, v := range sorted {
		if i == 0 || v != sorted[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// recheckListenQueues reads the LISTEN sockets again after the sample window, when any had
// connections waiting at the first read: a queue that stayed non-empty means nobody accepts.
func (col *collection) recheckListenQueues() {
	waiting := map[uint64]bool{}
	for ino, s := range col.sockets {
		if s.State == "LISTEN" && s.RxQueue > 0 && (s.Proto == "tcp" || s.Proto == "tcp6") {
			waiting[ino] = true
		}
	}
	if len(waiting) == 0 {
		return
	}
	socks, errs := col.c.FS.ReadSockets(col.PID, func(ino uint64) bool { return waiting[ino] })
	for _, e := range errs {
		col.Warn("socket table (re-read): %v", e)
	}
	col.listenAfter = map[uint64]uint64{}
	for _, s := range socks {
		col.listenAfter[s.Inode] = s.RxQueue
	}
}
