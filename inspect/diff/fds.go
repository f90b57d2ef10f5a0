package diff

import (
	"sort"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

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
