package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/probes"
)

// ptraceHint says what grants ptrace access to another process, for warnings.
const ptraceHint = "run as the process's user or root; in a container the debugging container needs CAP_SYS_PTRACE (kubectl debug --profile=general adds it)"

// Reader reads the container section of processes from one proc filesystem; it
// reads the reader's own cgroup mounts once.
type Reader struct {
	// FS is the proc root; CgroupRoot is prefixed to every cgroup mount point read from
	// mountinfo ("" on a real system; a fake cgroup tree in tests).
	FS         probes.FS
	CgroupRoot string
	// Now is the clock of the window's reads.
	Now    func() time.Time
	mounts mountCache
}

// mountCache holds the reader's cgroup mounts, read once per containerReader.
type mountCache struct {
	once   sync.Once
	mounts []probes.CgroupMount
	err    error
}

// selfCgroupMounts returns the reader's cgroup mounts (<proc>/self/mountinfo).
func (c *Reader) selfCgroupMounts() ([]probes.CgroupMount, error) {
	c.mounts.once.Do(func() {
		c.mounts.mounts, c.mounts.err = c.FS.ReadSelfCgroupMounts()
	})
	return c.mounts.mounts, c.mounts.err
}

// cgroupPlace is where one of the process's cgroups is on disk.
type cgroupPlace struct {
	// path is the cgroup path as /proc/<pid>/cgroup wrote it.
	path string
	dir  probes.CgroupDir
	// top is the directory of the mount's root: the walk up to ancestors stops there.
	top string
}

// level is one cgroup of a chain: its directory and its cgroup path.
type level struct {
	dir  probes.CgroupDir
	path string
}

// chain lists the cgroup and its ancestors up to the mount's root, the cgroup first.
func (p *cgroupPlace) chain() []level {
	out := []level{{p.dir, p.path}}
	d, cg := p.dir.Path, p.path
	for d != p.top && strings.HasPrefix(d, p.top) && d != "/" {
		d, cg = filepath.Dir(d), path.Dir(cg)
		out = append(out, level{probes.CgroupDir{Path: d, Version: p.dir.Version}, cg})
	}
	return out
}

// Window is what the first read of the container keeps for the second one at the
// end of the sample window.
type Window struct {
	CPUDir   *probes.CgroupDir
	CPUStart probes.CPUStat
	cpuAt    time.Time
	quota    bool
	memDir   *probes.CgroupDir
	oomStart *uint64
}

// containerRead is one read of a process's container section.
type containerRead struct {
	c        *Reader
	pid      int
	ctr      *model.Container
	warnings []string
	// limitErr is set when a limit could not be read, so "no limit" is not known.
	limitErr bool
	// throughTarget is set when the process's own mounts were read to place a cgroup.
	throughTarget bool
	window        Window
}

func (r *containerRead) warn(format string, args ...any) {
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

// Read reads the container section of pid. It returns nil (and no warnings) when
// the process is not in a container: no limit applies, the path names no container or pod,
// and the process is in the reader's pid namespace.
func (c *Reader) Read(pid int, status *probes.Status) (*model.Container, *Window, []string) {
	entries, err := c.FS.ReadProcCgroup(pid)
	switch {
	case err != nil && errors.Is(err, fs.ErrNotExist):
		// A kernel without cgroups, a process that is gone (the identity recheck says
		// so), or a fake tree without the file.
		return nil, nil, nil
	case err != nil:
		return nil, nil, []string{fmt.Sprintf("container: cgroup unreadable: %v", err)}
	}
	ctr, w, warnings, _ := c.readContainerOf(pid, status, entries)
	return ctr, w, warnings
}

// readContainerOf is Read with the process's cgroups already read. throughTarget
// reports that a cgroup was placed through the process's own mounts (/proc/<pid>/root):
// then the read belongs to that process, not to its cgroups alone.
func (c *Reader) readContainerOf(pid int, status *probes.Status, entries []probes.CgroupEntry) (ctr *model.Container, w *Window, warnings []string, throughTarget bool) {
	r := &containerRead{c: c, pid: pid, ctr: &model.Container{}}
	ctr = r.ctr
	namespaced := false
	switch {
	case status == nil:
		r.warn("container: pid in the container unknown since status could not be read")
	case len(status.NSpid) == 0:
		r.warn("container: pid in the container unknown: status has no NSpid line (Linux before 4.1)")
	default:
		n := status.NSpid[len(status.NSpid)-1]
		ctr.PIDInContainer = &n
		namespaced = len(status.NSpid) > 1
	}

	if !namespaced && allRoot(entries) && c.initialCgroupNS() {
		// The root cgroup of every hierarchy has no limits: nothing to read.
		return nil, nil, nil, false
	}
	places := r.locate(entries)
	mem, cpu, pids := places["memory"], places["cpu"], places["pids"]
	for _, p := range []*cgroupPlace{mem, cpu, pids, places["unified"]} {
		if p != nil {
			ctr.Cgroup, ctr.Version = p.path, p.dir.Version
			break
		}
	}
	if ctr.Cgroup == "" {
		for _, e := range entries {
			if e.HierarchyID == 0 || e.Has("memory") {
				ctr.Cgroup, ctr.Version = e.Path, 1
				if e.HierarchyID == 0 {
					ctr.Version = 2
				}
			}
		}
	}
	id := probes.ParseContainerIdentity(ctr.Cgroup)
	for _, e := range entries {
		if id.ID != "" || id.PodUID != "" {
			break
		}
		id = probes.ParseContainerIdentity(e.Path)
	}
	if id.ID != "" {
		ctr.ID = &id.ID
	}
	if id.PodUID != "" {
		ctr.PodUID = &id.PodUID
	}
	ctr.Runtime = id.Runtime

	r.readMemory(mem)
	r.readCPU(cpu)
	r.readPids(pids)
	r.readPressure(places)

	limited := ctr.Memory.LimitBytes != nil || ctr.CPU.QuotaCPUs != nil || ctr.Pids.Max != nil
	if !limited && ctr.ID == nil && ctr.PodUID == nil && !namespaced && !r.limitErr {
		return nil, nil, nil, r.throughTarget
	}
	return ctr, &r.window, r.warnings, r.throughTarget
}

// locate maps the memory, cpu and pids controllers (and the unified hierarchy, for PSI on
// hybrid systems) to directories. Controllers that cannot be placed are left out, with a
// warning.
func (r *containerRead) locate(entries []probes.CgroupEntry) map[string]*cgroupPlace {
	c := r.c
	out := map[string]*cgroupPlace{}
	self, selfErr := c.selfCgroupMounts()
	var target []probes.CgroupMount
	var targetErr error
	targetRead := false
	find := func(e probes.CgroupEntry, controller string) *cgroupPlace {
		if p := placeIn(self, c.CgroupRoot, e, controller); p != nil {
			return p
		}
		if !targetRead {
			targetRead, r.throughTarget = true, true
			target, targetErr = c.FS.ReadCgroupMounts(r.pid)
		}
		return placeIn(target, c.FS.PidPath(r.pid, "root"), e, controller)
	}
	var unplaced []string
	for _, controller := range []string{"memory", "cpu", "pids"} {
		var p *cgroupPlace
		for _, e := range entries {
			if e.HierarchyID != 0 && e.Has(controller) {
				p = find(e, controller)
				break
			}
		}
		if p == nil {
			for _, e := range entries {
				if e.HierarchyID == 0 {
					if q := find(e, ""); q != nil && v2Enables(q.dir, controller) {
						p = q
					}
				}
			}
		}
		if p != nil {
			out[controller] = p
		} else if hasController(entries, controller) {
			unplaced = append(unplaced, controller)
		}
	}
	for _, e := range entries {
		if e.HierarchyID == 0 && e.Path != "/" {
			if p := find(e, ""); p != nil {
				out["unified"] = p
			}
		}
	}
	if len(unplaced) > 0 {
		why := "no cgroup mount of the reader holds them"
		if selfErr != nil {
			why = fmt.Sprintf("the reader's mounts are unreadable (%v)", selfErr)
		}
		switch {
		case targetErr != nil && probes.IsDenied(targetErr):
			why += fmt.Sprintf(", and the process's own mounts need ptrace access (%v): %s", targetErr, ptraceHint)
		case targetErr != nil:
			why += fmt.Sprintf(", nor could the process's own mounts be read (%v)", targetErr)
		}
		r.warn("container: the %s cgroups of process %d could not be found on disk: %s; mount the cgroup file system (/sys/fs/cgroup) to read the limits", strings.Join(unplaced, ", "), r.pid, why)
		r.limitErr = true
	}
	return out
}

// allRoot reports whether every cgroup of the process is "/".
func allRoot(entries []probes.CgroupEntry) bool {
	for _, e := range entries {
		if e.Path != "/" {
			return false
		}
	}
	return true
}

// initialCgroupNamespace is the inode of the initial cgroup namespace
// (CGROUP_NS_INIT_INO, include/linux/proc_ns.h).
const initialCgroupNamespace = "cgroup:[4026531835]"

// initialCgroupNS reports whether the reader is in the initial cgroup namespace, where a
// path of "/" is a hierarchy's root; in a container's own namespace "/" is the container's
// cgroup, limits and all.
func (c *Reader) initialCgroupNS() bool {
	link, err := os.Readlink(c.FS.Path("self", "ns", "cgroup"))
	return err == nil && link == initialCgroupNamespace
}

// hasController reports whether the process's cgroups name controller on a v1 hierarchy
// (on v2 a controller that is not enabled is simply not there).
func hasController(entries []probes.CgroupEntry, controller string) bool {
	for _, e := range entries {
		if e.HierarchyID != 0 && e.Has(controller) {
			return true
		}
	}
	return false
}

// placeIn finds the mount of mounts that holds entry (a v1 mount carrying controller, or
// the v2 mount when controller is "" or the entry is the unified one) and maps the path.
func placeIn(mounts []probes.CgroupMount, prefix string, e probes.CgroupEntry, controller string) *cgroupPlace {
	for _, m := range mounts {
		if e.HierarchyID == 0 && m.Version != 2 || e.HierarchyID != 0 && (m.Version != 1 || !m.Has(controller)) {
			continue
		}
		dir, top, ok := m.Dir(prefix, e.Path)
		if !ok {
			continue
		}
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		return &cgroupPlace{path: e.Path, dir: probes.CgroupDir{Path: dir, Version: m.Version}, top: top}
	}
	return nil
}

// v2Enables reports whether controller is enabled in a v2 cgroup (its cgroup.controllers).
func v2Enables(d probes.CgroupDir, controller string) bool {
	data, err := probes.ReadFile(filepath.Join(d.Path, "cgroup.controllers"))
	return err == nil && slices.Contains(strings.Fields(string(data)), controller)
}

// limitStep reads one limit along a chain: the smallest limit, the level it was set at,
// and whether a read failed. A missing file at the top of the chain is the hierarchy's
// root, which has no limit files (nor has a v2 cgroup whose controller is not enabled);
// anything else is warned about.
func limitStep[T any](r *containerRead, what string, chain []level, read func(probes.CgroupDir) (T, error), less func(a, b T) bool, unlimited func(T) bool) (best T, at *level, ok bool) {
	for i := range chain {
		v, err := read(chain[i].dir)
		if err != nil {
			if i == len(chain)-1 && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			r.warn("container: %s unknown: %v", what, err)
			r.limitErr = true
			return best, nil, false
		}
		if unlimited(v) {
			continue
		}
		if at == nil || less(v, best) {
			best, at = v, &chain[i]
		}
	}
	return best, at, true
}

func (r *containerRead) readMemory(p *cgroupPlace) {
	m := &r.ctr.Memory
	if p == nil {
		return
	}
	chain := p.chain()
	limit, at, ok := limitStep(r, "memory limit", chain, probes.CgroupDir.MemoryLimit,
		func(a, b probes.Max) bool { return a.Less(b) }, func(v probes.Max) bool { return v.Unlimited })
	dir := chain[0].dir
	if ok && at != nil {
		v := limit.Value
		m.LimitBytes, m.LimitCgroup, dir = &v, at.path, at.dir
	}
	stats, errs := dir.Memory()
	for _, err := range errs {
		r.warn("container memory: %v", err)
	}
	m.UsageBytes, m.PeakBytes, m.OOMKills = stats.UsageBytes, stats.PeakBytes, stats.OOMKills
	// OOM kills are counted in the victim's own cgroup (and, on v2 only, its ancestors):
	// those of this cgroup are the container's, wherever the limit is.
	leaf := chain[0].dir
	if dir != leaf {
		m.OOMKills = nil
		if n, err := leaf.OOMKills(); err == nil {
			m.OOMKills = &n
		} else {
			r.warn("container memory: OOM kills unknown: %v", err)
		}
	}
	if stats.UsageBytes != nil && stats.InactiveFileBytes != nil {
		ws := *stats.UsageBytes - min(*stats.InactiveFileBytes, *stats.UsageBytes)
		m.WorkingSetBytes = &ws
	}
	if stats.High != nil && !stats.High.Unlimited {
		v := stats.High.Value
		m.HighBytes = &v
	}
	r.window.memDir, r.window.oomStart = &leaf, m.OOMKills
}

func (r *containerRead) readCPU(p *cgroupPlace) {
	cpu := &r.ctr.CPU
	if p == nil {
		return
	}
	chain := p.chain()
	quota, at, ok := limitStep(r, "cpu quota", chain, probes.CgroupDir.CPUQuota,
		func(a, b probes.CPUQuota) bool {
			x, _ := a.CPUs()
			y, _ := b.CPUs()
			return x < y
		}, func(q probes.CPUQuota) bool { _, ok := q.CPUs(); return !ok })
	dir := chain[0].dir
	if ok && at != nil {
		cpus, _ := quota.CPUs()
		cpu.QuotaCPUs, cpu.LimitCgroup, dir = &cpus, at.path, at.dir
		r.window.quota = true
	}
	st, err := dir.CPUStat()
	if err != nil {
		if r.window.quota {
			r.warn("container cpu: throttling unknown: %v", err)
		}
		return
	}
	r.window.CPUDir, r.window.CPUStart, r.window.cpuAt = &dir, st, r.c.Now()
}

func (r *containerRead) readPids(p *cgroupPlace) {
	pids := &r.ctr.Pids
	if p == nil {
		return
	}
	chain := p.chain()
	limit, at, ok := limitStep(r, "pids limit", chain, probes.CgroupDir.PidsMax,
		func(a, b probes.Max) bool { return a.Less(b) }, func(v probes.Max) bool { return v.Unlimited })
	dir := chain[0].dir
	if ok && at != nil {
		v := limit.Value
		pids.Max, pids.LimitCgroup, dir = &v, at.path, at.dir
	}
	if n, err := dir.PidsCurrent(); err == nil {
		pids.Current = &n
	} else if !errors.Is(err, fs.ErrNotExist) || pids.Max != nil {
		// The root of a v1 pids hierarchy has no pids.current; only a missing count that
		// a limit needs is worth a sentence.
		r.warn("container pids: count unknown: %v", err)
	}
}

// readPressure reads PSI from the v2 cgroup: the memory controller's when it is on v2, or
// the unified hierarchy's cgroup on a hybrid system (not its root, whose pressure is the
// whole machine's).
func (r *containerRead) readPressure(places map[string]*cgroupPlace) {
	var dir *probes.CgroupDir
	if p := places["memory"]; p != nil && p.dir.Version == 2 {
		dir = &p.dir
	} else if p := places["unified"]; p != nil {
		dir = &p.dir
	}
	if dir == nil {
		r.warn("container pressure: unknown: the process's cgroups are on cgroup v1, which has no per-cgroup pressure (PSI) files")
		return
	}
	pr := &model.ContainerPressure{}
	for _, res := range []string{"memory", "cpu"} {
		psi, err := dir.Pressure(res)
		if err != nil {
			r.warn("container pressure: %s unknown: %v", res, err)
			continue
		}
		v := psi.Some.Avg10
		if res == "memory" {
			pr.MemorySomeAvg10 = &v
		} else {
			pr.CPUSomeAvg10 = &v
		}
	}
	if pr.MemorySomeAvg10 != nil || pr.CPUSomeAvg10 != nil {
		r.ctr.Pressure = pr
	}
}

// finish makes the second read at the end of the sample window: CPU throttling and OOM
// kills over the window. Without a window (measured is false) they stay null.
func (w *Window) Finish(ctr *model.Container, now time.Time, measured bool, warn func(string, ...any)) {
	if ctr == nil || w == nil {
		return
	}
	if !measured {
		if w.quota {
			warn("container cpu: throttling not measured: it is measured over the sample window, and there was none (give --sample)")
		}
		return
	}
	if w.CPUDir != nil {
		end, err := w.CPUDir.CPUStat()
		switch {
		case err != nil:
			warn("container cpu: throttling unknown: %v", err)
		case end.Periods < w.CPUStart.Periods || end.Throttled < w.CPUStart.Throttled || end.ThrottledUS < w.CPUStart.ThrottledUS:
			warn("container cpu: throttling unknown: the counters of %s went backwards (the cgroup was made again)", w.CPUDir.Path)
		default:
			periods, throttled := end.Periods-w.CPUStart.Periods, end.Throttled-w.CPUStart.Throttled
			secs := float64(end.ThrottledUS-w.CPUStart.ThrottledUS) / 1e6
			window := now.Sub(w.cpuAt).Seconds()
			ctr.CPU.Periods, ctr.CPU.ThrottledPeriods, ctr.CPU.ThrottledSeconds, ctr.CPU.WindowSeconds = &periods, &throttled, &secs, &window
		}
	}
	if w.memDir != nil && w.oomStart != nil {
		if n, err := w.memDir.OOMKills(); err == nil && n >= *w.oomStart {
			grew := n - *w.oomStart
			ctr.Memory.OOMKills, ctr.Memory.OOMKillsInWindow = &n, &grew
		} else if err != nil {
			warn("container memory: OOM kills at the end of the window unknown: %v", err)
		}
	}
}
