package inspect

import (
	"sort"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/probes"
)

// readTree fills Children and Orphans from one scan of every process.
func (col *collection) readTree() {
	fs := col.c.FS
	stats, errs := fs.ScanProcesses()
	if len(errs) > 0 {
		col.Warn("process scan: %d processes unreadable (first: %v)", len(errs), errs[0])
	}
	// Children that appeared after the scan passed their pid are in the kernel's own
	// children lists: read them so the tree is complete.
	if kids, err := fs.ReadChildrenFile(col.PID); err == nil {
		known := make(map[int]bool, len(stats))
		for _, s := range stats {
			known[s.PID] = true
		}
		for _, k := range kids {
			if !known[k] {
				if st, err := fs.ReadStat(k); err == nil {
					stats = append(stats, st)
				}
			}
		}
	}
	tree := probes.NewTree(stats)
	col.Snap.Children = col.childrenOf(tree, col.PID, map[int]bool{col.PID: true})

	col.Snap.Orphans = []model.Orphan{}
	for _, o := range tree.OrphansOf(col.Stat.PGID, col.Stat.SID) {
		if o.PID == col.PID {
			continue
		}
		col.Snap.Orphans = append(col.Snap.Orphans, model.Orphan{
			PID: o.PID, PPID: o.PPID, PGID: o.PGID, State: o.State, Comm: o.Comm,
			Cmdline: col.cmdline(o.PID),
		})
	}
	sort.Slice(col.Snap.Orphans, func(i, j int) bool { return col.Snap.Orphans[i].PID < col.Snap.Orphans[j].PID })
}

// childrenOf builds the subtree below pid; seen guards against a cycle in a corrupt tree.
func (col *collection) childrenOf(tree *probes.Tree, pid int, seen map[int]bool) []*model.Child {
	out := []*model.Child{}
	for _, s := range tree.Children(pid) {
		if seen[s.PID] {
			continue
		}
		seen[s.PID] = true
		state := s.State
		out = append(out, &model.Child{
			PID: s.PID, PPID: s.PPID, State: state, Comm: s.Comm,
			Cmdline:  col.cmdline(s.PID),
			Zombie:   state == "Z",
			Children: col.childrenOf(tree, s.PID, seen),
		})
	}
	return out
}

// cmdline reads a process's command line; a zombie or vanished process has none.
func (col *collection) cmdline(pid int) []string {
	cmd, err := col.c.FS.ReadCmdline(pid)
	if err != nil || cmd == nil {
		return []string{}
	}
	return cmd
}
