package inspect

import (
	"fmt"
	"sort"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

// DiffThresholds decide when a difference is growth worth a finding.
type DiffThresholds struct {
	// FDs is the net increase of open fds that makes FD_GROWTH (default 10).
	FDs int
	// CloseWait is the net increase of CLOSE_WAIT sockets that makes CLOSE_WAIT_GROWTH (5).
	CloseWait int
	// RSSBytes and RSSFraction: RSS_GROWTH when RSS grew by both (64 MiB and 20%).
	RSSBytes    uint64
	RSSFraction float64
	// HeapBytes and HeapFraction: HEAP_GROWTH when the V8 heap used grew by both (32 MiB, 20%).
	HeapBytes    uint64
	HeapFraction float64
}

// DefaultDiffThresholds returns the default growth thresholds of diff.
func DefaultDiffThresholds() DiffThresholds {
	return DiffThresholds{FDs: 10, CloseWait: 5, RSSBytes: 64 << 20, RSSFraction: 0.20, HeapBytes: 32 << 20, HeapFraction: 0.20}
}

// ShortDiffInterval is the least time between two snapshots for diff to give rates and a
// time to the limit. Snapshots taken around a CI step are often seconds apart: a rate per
// hour from a 5-second window multiplies whatever happened in those seconds (a burst of
// requests, one GC cycle, a pool filling up) by 720 and calls it a trend, and a time to
// EMFILE from it is fiction. Under a minute diff says what changed, in absolute numbers;
// watch, which fits many samples, is the tool for rates.
const ShortDiffInterval = time.Minute

// Compare builds the Diff of two snapshots.
func Compare(a, b *model.Snapshot, th DiffThresholds, now time.Time) *model.Diff {
	d := &model.Diff{Schema: model.Schema, TakenAt: now.UTC(), Findings: []model.Finding{}, Warnings: []string{}}
	d.Before, d.After = refOf(a), refOf(b)
	d.IntervalSeconds = b.TakenAt.Sub(a.TakenAt).Seconds()
	d.SameProcess = a.Process != nil && b.Process != nil && a.Process.PID == b.Process.PID && a.Process.StartTicks == b.Process.StartTicks
	if !d.SameProcess {
		d.Warnings = append(d.Warnings, fmt.Sprintf("the snapshots are of different processes (pid %d and pid %d, or one pid restarted): differences include the restart", d.Before.PID, d.After.PID))
	}
	if d.IntervalSeconds < 0 {
		d.Warnings = append(d.Warnings, "the second snapshot was taken before the first: rates are computed on the absolute interval")
		d.IntervalSeconds = -d.IntervalSeconds
	}
	d.ShortInterval = d.IntervalSeconds < ShortDiffInterval.Seconds()
	if a.FDs != nil && b.FDs != nil {
		d.FDs = compareFDs(a.FDs, b.FDs)
	} else {
		d.Warnings = append(d.Warnings, "fds not compared: a snapshot has no fd table")
	}
	if a.Sockets != nil && b.Sockets != nil {
		d.Sockets = compareSockets(a.Sockets, b.Sockets)
	}
	if a.Children != nil && b.Children != nil {
		d.Children = compareChildren(a.Children, b.Children)
	}
	if a.Memory != nil && b.Memory != nil {
		d.Memory = &model.MemoryDiff{
			RSS: deltaU(a.Memory.RSSBytes, b.Memory.RSSBytes), PSS: deltaU(a.Memory.PSSBytes, b.Memory.PSSBytes),
			Anon: deltaU(a.Memory.AnonBytes, b.Memory.AnonBytes), HeapUsed: deltaU(heapUsed(a.Memory), heapUsed(b.Memory)),
		}
	}
	d.Findings = diffFindings(d, b, th)
	rules.SortFindings(d.Findings)
	return d
}

func refOf(s *model.Snapshot) model.SnapshotRef {
	r := model.SnapshotRef{TakenAt: s.TakenAt}
	if s.Process != nil {
		r.PID, r.Comm, r.StartTicks = s.Process.PID, s.Process.Comm, s.Process.StartTicks
	}
	return r
}

func heapUsed(m *model.Memory) *uint64 {
	if m.Heap == nil {
		return nil
	}
	return m.Heap.UsedBytes
}

func fptr(v float64) *float64 { return &v }

func deltaI(a, b int) model.Delta {
	return model.Delta{Before: fptr(float64(a)), After: fptr(float64(b)), Change: fptr(float64(b - a))}
}

func deltaU(a, b *uint64) model.Delta {
	d := model.Delta{}
	if a != nil {
		d.Before = fptr(float64(*a))
	}
	if b != nil {
		d.After = fptr(float64(*b))
	}
	if a != nil && b != nil {
		d.Change = fptr(float64(*b) - float64(*a))
	}
	return d
}

// fdKey describes an fd by what it is rather than by its number or inode, so the same kind
// of fd on both sides matches.
func fdKey(fd model.FD) string {
	if s := fd.Socket; s != nil {
		if fd.Type == "tcp" || fd.Type == "udp" {
			if s.State == "LISTEN" || s.State == "UNCONN" {
				return s.State + " " + s.Local
			}
			return s.State + " " + s.Local + " -> " + model.HostOf(s.Remote)
		}
		return s.State + " " + s.Local
	}
	switch fd.Type {
	case "pipe", "socket", "eventfd", "epoll", "timerfd", "signalfd", "inotify":
		return fd.Type
	}
	return fd.Target
}

func compareFDs(a, b *model.FDTable) *model.FDDiff {
	d := &model.FDDiff{Open: deltaI(a.Open, b.Open), ByType: map[string]model.Delta{}, Added: []model.FDGroup{}, Removed: []model.FDGroup{}}
	for t := range a.ByType {
		d.ByType[t] = deltaI(a.ByType[t], b.ByType[t])
	}
	for t := range b.ByType {
		d.ByType[t] = deltaI(a.ByType[t], b.ByType[t])
	}
	type group struct {
		typ, target string
		fds         []int
	}
	index := func(t *model.FDTable) map[string]*group {
		m := map[string]*group{}
		for _, fd := range t.List {
			k := fd.Type + "\x00" + fdKey(fd)
			g := m[k]
			if g == nil {
				g = &group{typ: fd.Type, target: fdKey(fd)}
				m[k] = g
			}
			g.fds = append(g.fds, fd.FD)
		}
		return m
	}
	ia, ib := index(a), index(b)
	diffSide := func(from, to map[string]*group) []model.FDGroup {
		var out []model.FDGroup
		for k, g := range to {
			n := len(g.fds)
			if o := from[k]; o != nil {
				n -= len(o.fds)
			}
			if n > 0 {
				fds := g.fds
				if o := from[k]; o != nil {
					fds = subtractFDs(g.fds, o.fds, n)
				}
				if len(fds) > rules.MaxListed {
					fds = fds[:rules.MaxListed]
				}
				out = append(out, model.FDGroup{Type: g.typ, Target: g.target, Count: n, FDs: fds})
			}
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Count != out[j].Count {
				return out[i].Count > out[j].Count
			}
			if out[i].Type != out[j].Type {
				return out[i].Type < out[j].Type
			}
			return out[i].Target < out[j].Target
		})
		return out
	}
	if added := diffSide(ia, ib); added != nil {
		d.Added = added
	}
	if removed := diffSide(ib, ia); removed != nil {
		d.Removed = removed
	}
	if a.List != nil && b.List != nil {
		d.DeletedNew = newlyDeleted(a.List, b.List)
		for _, f := range d.DeletedNew {
			if f.Size != nil {
				d.DeletedNewBytes += *f.Size
			}
		}
	}
	return d
}

// newlyDeleted returns the deleted files of b that a did not already hold deleted (the same
// fd number on the same path). A file open in a and unlinked since is newly held: its space
// is what the run between the snapshots left behind. Anonymous memory (memfd) is not disk.
func newlyDeleted(a, b []model.FD) []model.DeletedFile {
	type key struct {
		fd   int
		path string
	}
	held := map[key]bool{}
	for _, fd := range a {
		if fd.Deleted {
			held[key{fd.FD, fd.Target}] = true
		}
	}
	out := []model.DeletedFile{}
	for _, fd := range b {
		if fd.Deleted && !model.IsAnonymousMemory(fd.Target) && !held[key{fd.FD, fd.Target}] {
			out = append(out, model.DeletedFile{FD: fd.FD, Path: fd.Target, Size: fd.Size})
		}
	}
	return out
}

// subtractFDs returns up to n fd numbers of have that are not in other (falling back to the
// highest numbers of have when the same numbers were reused).
func subtractFDs(have, other []int, n int) []int {
	in := map[int]bool{}
	for _, fd := range other {
		in[fd] = true
	}
	var out []int
	for _, fd := range have {
		if !in[fd] {
			out = append(out, fd)
		}
	}
	if len(out) < n {
		out = have[len(have)-n:]
	}
	return out
}

func compareSockets(a, b *model.SocketSummary) *model.SocketDiff {
	d := &model.SocketDiff{ByState: map[string]model.Delta{}, ByPeer: []model.PeerDelta{}}
	for s := range a.ByState {
		d.ByState[s] = deltaI(a.ByState[s], b.ByState[s])
	}
	for s := range b.ByState {
		d.ByState[s] = deltaI(a.ByState[s], b.ByState[s])
	}
	type key struct{ remote, state string }
	counts := map[key]*model.PeerDelta{}
	// A host can have several groups per state (inbound, and outbound per remote port):
	// the delta is per host and state, so their counts add up.
	peer := func(g model.PeerGroup) *model.PeerDelta {
		p := counts[key{g.Remote, g.State}]
		if p == nil {
			p = &model.PeerDelta{Remote: g.Remote, State: g.State}
			counts[key{g.Remote, g.State}] = p
		}
		return p
	}
	for _, g := range a.ByPeer {
		peer(g).Before += g.Count
	}
	for _, g := range b.ByPeer {
		peer(g).After += g.Count
	}
	for _, p := range counts {
		p.Change = p.After - p.Before
		if p.Change != 0 {
			d.ByPeer = append(d.ByPeer, *p)
		}
	}
	sort.Slice(d.ByPeer, func(i, j int) bool {
		x, y := d.ByPeer[i], d.ByPeer[j]
		if x.Change != y.Change {
			return x.Change > y.Change
		}
		if x.Remote != y.Remote {
			return x.Remote < y.Remote
		}
		return x.State < y.State
	})
	return d
}

func compareChildren(a, b []*model.Child) *model.ChildrenDiff {
	flat := func(list []*model.Child) map[int]*model.Child {
		m := map[int]*model.Child{}
		var walk func([]*model.Child)
		walk = func(cs []*model.Child) {
			for _, c := range cs {
				m[c.PID] = c
				walk(c.Children)
			}
		}
		walk(list)
		return m
	}
	fa, fb := flat(a), flat(b)
	d := &model.ChildrenDiff{Appeared: []model.ChildRef{}, Gone: []model.ChildRef{}}
	for pid, c := range fb {
		if _, ok := fa[pid]; !ok {
			d.Appeared = append(d.Appeared, model.ChildRef{PID: pid, Comm: c.Comm, State: c.State, Zombie: c.Zombie})
		}
	}
	for pid, c := range fa {
		if _, ok := fb[pid]; !ok {
			d.Gone = append(d.Gone, model.ChildRef{PID: pid, Comm: c.Comm, State: c.State, Zombie: c.Zombie})
		}
	}
	sort.Slice(d.Appeared, func(i, j int) bool { return d.Appeared[i].PID < d.Appeared[j].PID })
	sort.Slice(d.Gone, func(i, j int) bool { return d.Gone[i].PID < d.Gone[j].PID })
	return d
}
