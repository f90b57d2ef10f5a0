package probes

import (
	"os"
	"sort"
	"strconv"
	"strings"
)

// Pids lists the numeric entries of the proc root.
func (p FS) Pids() ([]int, error) {
	d, err := os.Open(p.Root)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var pids []int
	for {
		names, err := d.Readdirnames(1024)
		for _, n := range names {
			if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
				pids = append(pids, pid)
			}
		}
		if err != nil {
			break
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// ScanProcesses reads the stat of every process once. Processes that exit during the scan
// are skipped; other failures are returned alongside the rows that could be read.
func (p FS) ScanProcesses() ([]Stat, []error) {
	pids, err := p.Pids()
	if err != nil {
		return nil, []error{err}
	}
	out := make([]Stat, 0, len(pids))
	var errs []error
	for _, pid := range pids {
		s, err := p.ReadStat(pid)
		if err != nil {
			if !IsGone(err) {
				errs = append(errs, err)
			}
			continue
		}
		out = append(out, s)
	}
	return out, errs
}

// Tree indexes processes by pid and by parent.
type Tree struct {
	byPID    map[int]Stat
	children map[int][]int
}

// NewTree builds the index from one scan.
func NewTree(stats []Stat) *Tree {
	t := &Tree{byPID: make(map[int]Stat, len(stats)), children: map[int][]int{}}
	for _, s := range stats {
		if _, dup := t.byPID[s.PID]; dup {
			continue
		}
		t.byPID[s.PID] = s
		t.children[s.PPID] = append(t.children[s.PPID], s.PID)
	}
	for _, c := range t.children {
		sort.Ints(c)
	}
	return t
}

// Get returns the stat of pid.
func (t *Tree) Get(pid int) (Stat, bool) { s, ok := t.byPID[pid]; return s, ok }

// Children returns the direct children of pid, sorted by pid.
func (t *Tree) Children(pid int) []Stat {
	var out []Stat
	for _, c := range t.children[pid] {
		if c != pid {
			out = append(out, t.byPID[c])
		}
	}
	return out
}

// IsOrphan reports whether s lost its parent and was re-parented. Rule: a process that
// inherited its process group (PGID ≠ PID) but whose parent is not in that group (the
// parent that shared it died, and init or a subreaper adopted it); or a group leader
// (PGID = PID) that is not a session leader (SID ≠ PID) whose parent is outside its
// session (its shell died: a nohup job after logout). pid 1, kernel threads and processes
// whose parent is 0 (a namespace's root) never are; a parent that cannot be found makes
// no claim.
func IsOrphan(t *Tree, s Stat) bool {
	if s.PID <= 1 || s.PPID == 0 || s.IsKernelThread() {
		return false
	}
	parent, ok := t.Get(s.PPID)
	if !ok {
		return false
	}
	if s.PGID != s.PID {
		return parent.PGID != s.PGID
	}
	if s.SID != s.PID {
		return parent.SID != s.SID
	}
	return false
}

// OrphansOf returns the orphans whose process group is pgid or whose session is sid.
func (t *Tree) OrphansOf(pgid, sid int) []Stat {
	var out []Stat
	for _, s := range t.byPID {
		if (s.PGID == pgid || s.SID == sid) && IsOrphan(t, s) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// ReadChildrenFile reads the children of every thread of pid from
// /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN).
func (p FS) ReadChildrenFile(pid int) ([]int, error) {
	tasks, err := os.ReadDir(p.PidPath(pid, "task"))
	if err != nil {
		return nil, err
	}
	var out []int
	for _, t := range tasks {
		data, err := ReadFile(p.PidPath(pid, "task", t.Name(), "children"))
		if err != nil {
			if IsGone(err) {
				continue
			}
			return nil, err
		}
		for _, f := range strings.Fields(string(data)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	sort.Ints(out)
	return out, nil
}
