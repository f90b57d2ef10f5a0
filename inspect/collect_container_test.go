package inspect

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/probes"
)

// The container section against fake trees: testdata/proc/healthy (a Node.js process) with
// a cgroup file and mountinfo added, and the cgroup file systems of testdata/cgroup. cgroup
// v2 is only tested on fake trees: on this machine v1 holds the memory, cpu and pids
// controllers, and a controller can be bound to one hierarchy only, so a v2 hierarchy with
// them cannot be mounted here. The v2 files hold the kernel's formats
// (Documentation/admin-guide/cgroup-v2.rst, Linux 6.x); the v1 files were copied from a
// memory, cpu and pids cgroup made on this machine.

const (
	v2ID  = "9b1c8f7e6d5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c"
	v2Pod = "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011"
	v1ID  = "3f2a9c1b0e7d5a4c8b6e2f1d0c9b8a7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a"

	v2PodPath = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c_4b5a_6978_8a9b_acbdcedf0011.slice"
	v2Path    = v2PodPath + "/cri-containerd-" + v2ID + ".scope"

	v2Mountinfo = "23 1 0:21 / / rw,relatime - overlay overlay rw\n30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
	v1Mountinfo = "23 1 0:21 / / rw,relatime - overlay overlay rw\n31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu,cpuacct\n35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
		"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
)

// fakeContainerProc copies testdata/proc/healthy (pid 4242) and adds its cgroup file, the
// reader's mountinfo and, when nspid is not "", the NSpid line.
func fakeContainerProc(t testing.TB, cgroup, selfMountinfo, nspid string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proc")
	if out, err := exec.Command("cp", "-a", filepath.Join("..", "testdata", "proc", "healthy"), dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	write := func(rel, text string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("4242/cgroup", cgroup)
	if selfMountinfo != "" {
		write("self/mountinfo", selfMountinfo)
	}
	if nspid != "" {
		status, err := os.ReadFile(filepath.Join(dir, "4242", "status"))
		if err != nil {
			t.Fatal(err)
		}
		write("4242/status", strings.Replace(string(status), "NSpid:\t4242\n", "NSpid:\t"+nspid+"\n", 1))
	}
	return dir
}

func cgroupTree(t testing.TB, name string) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", "testdata", "cgroup", name))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func testCollector(proc, cgroupRoot string) *Collector {
	c := NewCollector(probes.NewFS(proc))
	c.CgroupRoot = cgroupRoot
	c.UserName = func(int) string { return "app" }
	c.Now = func() time.Time { return time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC) }
	return c
}

func val(p *uint64) uint64 {
	if p == nil {
		return 1<<64 - 1
	}
	return *p
}

// TestContainerV2KubepodsFromHost: a containerd container of a burstable pod on a v2 node,
// read from the host: the memory limit is the container's (smaller than the pod's), the
// pids limit the pod's (the container has none), the CPU quota the container's.
func TestContainerV2KubepodsFromHost(t *testing.T) {
	proc := fakeContainerProc(t, "0::"+v2Path+"\n", v2Mountinfo, "4242\t1")
	c := testCollector(proc, cgroupTree(t, "v2-kubepods"))
	snap, err := c.Collect(context.Background(), 4242, Options{Sections: SectionMemory | SectionLoop})
	if err != nil {
		t.Fatal(err)
	}
	ctr := snap.Container
	if ctr == nil {
		t.Fatalf("no container section; warnings %q", snap.Warnings)
	}
	if ctr.Cgroup != v2Path || ctr.Version != 2 || ctr.ID == nil || *ctr.ID != v2ID || ctr.PodUID == nil || *ctr.PodUID != v2Pod ||
		ctr.Runtime != "containerd" || ctr.PIDInContainer == nil || *ctr.PIDInContainer != 1 {
		t.Errorf("identity: %+v", ctr)
	}
	m := ctr.Memory
	// memory.current 524288000 − inactive_file 31457280.
	if val(m.LimitBytes) != 536870912 || m.LimitCgroup != v2Path || val(m.UsageBytes) != 524288000 || val(m.WorkingSetBytes) != 492830720 ||
		m.HighBytes != nil || val(m.PeakBytes) != 530579456 || val(m.OOMKills) != 2 || m.OOMKillsInWindow != nil {
		t.Errorf("memory: %+v", m)
	}
	if ctr.CPU.QuotaCPUs == nil || *ctr.CPU.QuotaCPUs != 0.5 || ctr.CPU.LimitCgroup != v2Path || ctr.CPU.Periods != nil || ctr.CPU.WindowSeconds != nil {
		t.Errorf("cpu: %+v", ctr.CPU)
	}
	if val(ctr.Pids.Max) != 100 || val(ctr.Pids.Current) != 97 || ctr.Pids.LimitCgroup != v2PodPath {
		t.Errorf("pids: %+v", ctr.Pids)
	}
	if p := ctr.Pressure; p == nil || p.MemorySomeAvg10 == nil || *p.MemorySomeAvg10 != 3.25 || p.CPUSomeAvg10 == nil || *p.CPUSomeAvg10 != 41.5 {
		t.Errorf("pressure: %+v", p)
	}
	got := severities(snap.Findings)
	if got["CONTAINER_MEMORY_NEAR_LIMIT"] != model.SeverityWarning || got["OOM_KILLED"] != model.SeverityWarning || got["PIDS_NEAR_LIMIT"] != model.SeverityWarning {
		t.Errorf("findings %v", got)
	}
	if _, ok := got["CPU_THROTTLED"]; ok {
		t.Error("CPU_THROTTLED without a window: cpu.stat's totals since the cgroup was made must not count")
	}
	if !hasWarning(snap.Warnings, "throttling not measured") {
		t.Errorf("no warning about the missing window: %q", snap.Warnings)
	}
}

func hasWarning(ws []string, part string) bool {
	for _, w := range ws {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

// TestContainerV2InsidePod: read from inside the pod (its own cgroup namespace: the path is
// "/" and the mount's root is the container's cgroup), so limits come from the top of what
// is visible.
func TestContainerV2InsidePod(t *testing.T) {
	inside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(inside, "sys", "fs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(cgroupTree(t, "v2-kubepods"), "sys", "fs", "cgroup", v2Path), filepath.Join(inside, "sys", "fs", "cgroup")); err != nil {
		t.Fatal(err)
	}
	proc := fakeContainerProc(t, "0::/\n", v2Mountinfo, "")
	ctr, _, warnings := testCollector(proc, inside).Containers().Read(4242, &probes.Status{NSpid: []int{7}})
	if ctr == nil {
		t.Fatalf("no container section; warnings %q", warnings)
	}
	if ctr.Cgroup != "/" || ctr.ID != nil || ctr.PodUID != nil || *ctr.PIDInContainer != 7 || val(ctr.Memory.LimitBytes) != 536870912 || val(ctr.Pids.Current) != 95 || ctr.Pids.Max != nil {
		t.Errorf("got %+v", ctr)
	}
}

// TestContainerV1Docker: docker's cgroupfs driver on v1, files copied from a real cgroup.
func TestContainerV1Docker(t *testing.T) {
	cg := "12:pids:/docker/" + v1ID + "\n4:memory:/docker/" + v1ID + "\n2:cpu,cpuacct:/docker/" + v1ID + "\n1:name=systemd:/docker/" + v1ID + "\n0::/\n"
	proc := fakeContainerProc(t, cg, v1Mountinfo, "4242\t1")
	ctr, _, warnings := testCollector(proc, cgroupTree(t, "v1-docker")).Containers().Read(4242, &probes.Status{NSpid: []int{4242, 1}})
	if ctr == nil {
		t.Fatalf("no container section; warnings %q", warnings)
	}
	// memory.usage_in_bytes 186093568 − total_inactive_file 4096.
	if ctr.Version != 1 || *ctr.ID != v1ID || ctr.Runtime != "docker" || val(ctr.Memory.LimitBytes) != 209715200 || val(ctr.Memory.WorkingSetBytes) != 186089472 ||
		val(ctr.Memory.OOMKills) != 0 || ctr.CPU.QuotaCPUs == nil || *ctr.CPU.QuotaCPUs != 0.2 || val(ctr.Pids.Max) != 64 || ctr.Pressure != nil {
		t.Errorf("got %+v", ctr)
	}
	if !hasWarning(warnings, "no per-cgroup pressure") || len(warnings) != 1 {
		t.Errorf("warnings %q", warnings)
	}
}

// TestContainerThroughTargetMounts: the reader has no cgroup mount (a debugging container
// without /sys/fs/cgroup), so the target's own mounts are read through /proc/<pid>/root.
func TestContainerThroughTargetMounts(t *testing.T) {
	cg := "4:memory:/docker/" + v1ID + "\n2:cpu,cpuacct:/docker/" + v1ID + "\n12:pids:/docker/" + v1ID + "\n0::/\n"
	proc := fakeContainerProc(t, cg, "23 1 0:21 / / rw - overlay overlay rw\n", "")
	if err := os.WriteFile(filepath.Join(proc, "4242", "mountinfo"), []byte(v1Mountinfo), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(cgroupTree(t, "v1-docker"), filepath.Join(proc, "4242", "root")); err != nil {
		t.Fatal(err)
	}
	ctr, _, warnings := testCollector(proc, "/nonexistent").Containers().Read(4242, &probes.Status{NSpid: []int{4242}})
	if ctr == nil || val(ctr.Memory.LimitBytes) != 209715200 || val(ctr.Pids.Max) != 64 {
		t.Fatalf("got %+v, warnings %q", ctr, warnings)
	}
	// Without the target's mounts either: one sentence saying what is missing.
	os.Remove(filepath.Join(proc, "4242", "mountinfo"))
	ctr, _, warnings = testCollector(proc, "/nonexistent").Containers().Read(4242, &probes.Status{NSpid: []int{4242}})
	if ctr == nil || ctr.Memory.LimitBytes != nil || !hasWarning(warnings, "memory, cpu, pids cgroups of process 4242 could not be found") {
		t.Errorf("got %+v, warnings %q", ctr, warnings)
	}
}

// TestContainerNullOutside: a process in an unlimited cgroup that names no container, in
// the reader's pid namespace, has no container section and no warning; nor has a tree
// without a cgroup file (a kernel without cgroups).
func TestContainerNullOutside(t *testing.T) {
	cg := "12:pids:/docker\n4:memory:/docker\n2:cpu,cpuacct:/docker\n0::/\n"
	proc := fakeContainerProc(t, cg, v1Mountinfo, "")
	ctr, _, warnings := testCollector(proc, cgroupTree(t, "v1-docker")).Containers().Read(4242, &probes.Status{NSpid: []int{4242}})
	if ctr != nil || len(warnings) > 0 {
		t.Errorf("got %+v, %q", ctr, warnings)
	}
	// The same process in another pid namespace is in a container.
	ctr, _, _ = testCollector(proc, cgroupTree(t, "v1-docker")).Containers().Read(4242, &probes.Status{NSpid: []int{4242, 1}})
	if ctr == nil || *ctr.PIDInContainer != 1 || ctr.Memory.LimitBytes != nil || ctr.Memory.LimitCgroup != "" {
		t.Errorf("namespaced: %+v", ctr)
	}
	os.Remove(filepath.Join(proc, "4242", "cgroup"))
	snap, err := testCollector(proc, "").Collect(context.Background(), 4242, Options{Sections: SectionMemory | SectionLoop})
	if err != nil || snap.Container != nil || hasWarning(snap.Warnings, "container") {
		t.Errorf("no cgroup file: %+v %v %q", snap.Container, err, snap.Warnings)
	}
}

// TestContainerWindow: throttling and OOM kills are the difference between the start and
// the end of the window, not the totals since the cgroup was made.
func TestContainerWindow(t *testing.T) {
	tree := filepath.Join(t.TempDir(), "tree")
	if out, err := exec.Command("cp", "-a", cgroupTree(t, "v2-kubepods"), tree).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	proc := fakeContainerProc(t, "0::"+v2Path+"\n", v2Mountinfo, "")
	c := testCollector(proc, tree)
	start := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	c.Now = func() time.Time { return start }
	ctr, w, _ := c.Containers().Read(4242, &probes.Status{NSpid: []int{4242}})
	dir := filepath.Join(tree, "sys", "fs", "cgroup", v2Path)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// 2 s later: 20 more periods, 9 throttled for 1.5 s in all, and one more OOM kill.
	write("cpu.stat", "usage_usec 81334567\nuser_usec 70223456\nsystem_usec 11111111\nnr_periods 4020\nnr_throttled 1209\nthrottled_usec 96500000\nnr_bursts 0\nburst_usec 0\n")
	write("memory.events", "low 0\nhigh 0\nmax 60\noom 4\noom_kill 3\noom_group_kill 0\n")
	var warned []string
	w.Finish(ctr, start.Add(2*time.Second), true, func(f string, a ...any) { warned = append(warned, f) })
	cpu := ctr.CPU
	if val(cpu.Periods) != 20 || val(cpu.ThrottledPeriods) != 9 || cpu.ThrottledSeconds == nil || *cpu.ThrottledSeconds != 1.5 || *cpu.WindowSeconds != 2 ||
		val(ctr.Memory.OOMKills) != 3 || val(ctr.Memory.OOMKillsInWindow) != 1 || len(warned) > 0 {
		t.Errorf("cpu %+v, memory %+v, warned %q", cpu, ctr.Memory, warned)
	}
	got := severities(rules.Evaluate(&model.Snapshot{Container: ctr}, rules.EvalContext{Thresholds: rules.DefaultThresholds()}))
	if got["CPU_THROTTLED"] != model.SeverityWarning || got["OOM_KILLED"] != model.SeverityCritical {
		t.Errorf("findings %v", got)
	}
	// Counters that went backwards (the cgroup was made again) are not a measurement.
	ctr, w, _ = c.Containers().Read(4242, &probes.Status{NSpid: []int{4242}})
	write("cpu.stat", "nr_periods 1\nnr_throttled 0\nthrottled_usec 0\n")
	warned = nil
	w.Finish(ctr, start.Add(time.Second), true, func(f string, a ...any) { warned = append(warned, f) })
	if ctr.CPU.Periods != nil || len(warned) != 1 {
		t.Errorf("backwards: %+v, warned %q", ctr.CPU, warned)
	}
}

func TestContainerMatches(t *testing.T) {
	id, uid := v2ID, v2Pod
	c := &model.Container{ID: &id, PodUID: &uid}
	for filter, want := range map[string]bool{
		"9b1c8f7e6d5a": true, "9B1C": true, v2ID: true, "pod:" + v2Pod: true, strings.ReplaceAll(v2Pod, "-", "_"): true, "0f1e2d3c": true,
		"9b1d": false, "pod:": false, "nothing": false,
	} {
		if got := c.Matches(filter); got != want {
			t.Errorf("Matches(%q) = %v, want %v", filter, got, want)
		}
	}
	if (*model.Container)(nil).Matches("x") || c.ShortName() != "9b1c8f7e6d5a" || (&model.Container{PodUID: &uid}).ShortName() != "pod:"+v2Pod {
		t.Error("nil Matches or ShortName")
	}
}
