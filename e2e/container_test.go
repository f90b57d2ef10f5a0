package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/internal/realnode"
	"github.com/nodeinspect/nodeinspect/probes"
)

// Real cgroups (v1 here: the memory, cpu and pids controllers of this machine are mounted
// as cgroup v1, as /proc/self/mountinfo shows) with real Node.js processes in them. Each test makes its cgroups under
// /sys/fs/cgroup/<controller>/nodeinspect-test-<random>, and removes them in t.Cleanup
// after the processes in them are killed. cgroup v2 is covered by the fake trees of
// inspect/collect_container_test.go: v2 cannot be mounted with these controllers while v1
// holds them.

// ctrJSON is the container section of a snapshot.
type ctrJSON struct {
	Cgroup         string  `json:"cgroup"`
	Version        int     `json:"version"`
	ID             *string `json:"id"`
	PIDInContainer *int    `json:"pid_in_container"`
	Memory         struct {
		Limit      *uint64 `json:"limit_bytes"`
		Usage      *uint64 `json:"usage_bytes"`
		WorkingSet *uint64 `json:"working_set_bytes"`
		Peak       *uint64 `json:"peak_bytes"`
		OOMKills   *uint64 `json:"oom_kills"`
		InWindow   *uint64 `json:"oom_kills_in_window"`
		LimitAt    string  `json:"limit_cgroup"`
	} `json:"memory"`
	CPU struct {
		QuotaCPUs        *float64 `json:"quota_cpus"`
		Periods          *uint64  `json:"periods"`
		ThrottledPeriods *uint64  `json:"throttled_periods"`
		ThrottledSeconds *float64 `json:"throttled_seconds"`
		WindowSeconds    *float64 `json:"window_seconds"`
	} `json:"cpu"`
	Pids struct {
		Current *uint64 `json:"current"`
		Max     *uint64 `json:"max"`
	} `json:"pids"`
}

// reportContainer runs report --json on pid and returns the snapshot and its container.
func reportContainer(t *testing.T, pid int, extra ...string) (snapshot, *ctrJSON, string) {
	t.Helper()
	out, stderr, code := run(t, append([]string{"report", strconv.Itoa(pid), "--json"}, extra...)...)
	if code > 1 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	var doc struct {
		Container *ctrJSON `json:"container"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	return decode(t, out), doc.Container, stderr
}

// v1Cgroup makes /sys/fs/cgroup/<controller>/<rel> (rel may hold several levels), and
// removes it, deepest first, when the test ends: registered before any process is started
// in it, this cleanup runs after realnode has killed them.
func v1Cgroup(t *testing.T, controller, rel string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make cgroups")
	}
	root := filepath.Join("/sys/fs/cgroup", controller)
	if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err != nil {
		t.Skipf("no cgroup v1 %s controller mounted at %s: %v", controller, root, err)
	}
	dir := filepath.Join(root, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skipf("the kernel refuses a %s cgroup: %v", controller, err)
	}
	t.Cleanup(func() {
		for d := dir; d != root; d = filepath.Dir(d) {
			removeCgroup(t, d)
		}
	})
	return dir
}

// removeCgroup removes an empty cgroup directory; a cgroup whose last task is still
// exiting is busy for a moment, so it retries for up to 5 s.
func removeCgroup(t *testing.T, dir string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := syscall.Rmdir(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("cgroup %s not removed: %v", dir, err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readUint(t *testing.T, path string) uint64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := probes.ParseCgroupUint(data)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func readKeyed(t *testing.T, path, key string) uint64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := probes.ParseFlatKeyed(data)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := m[key]
	if !ok {
		t.Fatalf("%s has no %s", path, key)
	}
	return v
}

func randomName(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestContainerMemoryNearLimitThenOOMKill: a Node.js process in a child cgroup (named like
// docker's cgroupfs driver names a container) holds 200 MiB of Buffers; the parent cgroup's
// limit is then set so that this is 90% of it: CONTAINER_MEMORY_NEAR_LIMIT (warning) with
// the cgroup's own numbers, the parent's limit as the effective one. Then a sibling in the same cgroup allocates past the
// limit, the kernel OOM-kills it, and the survivor's report shows OOM_KILLED.
func TestContainerMemoryNearLimitThenOOMKill(t *testing.T) {
	id := randomName(32)
	parentRel := "nodeinspect-test-" + randomName(4)
	dir := v1Cgroup(t, "memory", filepath.Join(parentRel, "docker", id))
	parent := filepath.Join("/sys/fs/cgroup/memory", parentRel)
	p := realnode.Start(t, "ctr_fill.js", realnode.Args("200"), realnode.InCgroups(dir))
	// The kernel rounds a limit down to pages.
	limit := readUint(t, filepath.Join(parent, "memory.usage_in_bytes")) * 10 / 9 &^ 4095
	writeFile(t, filepath.Join(parent, "memory.limit_in_bytes"), strconv.FormatUint(limit, 10))
	snap, ctr, stderr := reportContainer(t, p.PID, "--sample", "300ms")
	// Read right after the report: the process only holds its Buffers now.
	usage := readUint(t, filepath.Join(parent, "memory.usage_in_bytes"))
	inactive := readKeyed(t, filepath.Join(parent, "memory.stat"), "total_inactive_file")
	if ctr == nil {
		t.Fatalf("no container section; stderr %s", stderr)
	}
	if ctr.Version != 1 || ctr.Cgroup != "/"+filepath.Join(parentRel, "docker", id) || ctr.ID == nil || *ctr.ID != id {
		t.Errorf("identity: %+v", ctr)
	}
	m := ctr.Memory
	if m.Limit == nil || *m.Limit != limit || m.LimitAt != "/"+parentRel {
		t.Fatalf("limit %v at %q, want %d at the parent /%s", m.Limit, m.LimitAt, limit, parentRel)
	}
	// The kernel batches v1 usage per CPU (64 pages each) and an idle Node.js still
	// allocates a little (timers, GC): 4 MiB covers both, far below the 200 MiB held.
	const slack = 4 << 20
	if m.Usage == nil || m.WorkingSet == nil || !near(*m.Usage, usage, slack) || !near(*m.WorkingSet, usage-inactive, slack) {
		t.Errorf("usage %v working set %v; the cgroup's files say %d and %d", m.Usage, m.WorkingSet, usage, usage-inactive)
	}
	f := snap.find("CONTAINER_MEMORY_NEAR_LIMIT")
	if f == nil {
		t.Fatalf("no CONTAINER_MEMORY_NEAR_LIMIT: %s", snap.codes())
	}
	// 90% when the limit was set; the slack above moves it by 2% at most.
	if frac := float64(*m.WorkingSet) / float64(limit); frac < 0.87 || frac > 0.93 || f.Severity != "warning" {
		t.Errorf("working set %.1f%% of the limit: severity %s", frac*100, f.Severity)
	}
	if ev := f.Evidence["limit_bytes"]; ev != float64(limit) {
		t.Errorf("evidence %v", f.Evidence)
	}
	if m.OOMKills == nil || *m.OOMKills != 0 || snap.find("OOM_KILLED") != nil {
		t.Errorf("OOM kills before any: %v, %s", m.OOMKills, snap.codes())
	}

	// ps shows the container and filters by it.
	out, stderr, code := run(t, "ps", "--json", "--container", id[:12])
	if code > 1 {
		t.Fatalf("ps: exit %d: %s", code, stderr)
	}
	var ps struct {
		Processes []struct {
			PID       int      `json:"pid"`
			Container *string  `json:"container"`
			Flags     []string `json:"flags"`
		} `json:"processes"`
	}
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps.Processes) != 1 || ps.Processes[0].PID != p.PID || ps.Processes[0].Container == nil || *ps.Processes[0].Container != id[:12] ||
		!strings.Contains(strings.Join(ps.Processes[0].Flags, ","), "CONTAINER_MEMORY_NEAR_LIMIT") {
		t.Errorf("ps --container %s: %+v", id[:12], ps.Processes)
	}

	// A sibling in the same cgroup allocates past the limit and is the OOM killer's victim.
	sib := realnode.Start(t, "ctr_oom.js", realnode.InCgroups(dir))
	if sib.Ready["oom_score_adj"] != float64(1000) {
		t.Fatalf("sibling ready %v", sib.Ready)
	}
	if err := waitExit(sib, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// v1 counts the kill in the victim's own cgroup, not in the parent whose limit it hit.
	kills := readKeyed(t, filepath.Join(dir, "memory.oom_control"), "oom_kill")
	if kills == 0 || !realnode.Alive(p.PID) {
		t.Fatalf("oom_kill %d, survivor alive %v", kills, realnode.Alive(p.PID))
	}
	snap, ctr, _ = reportContainer(t, p.PID, "--sample", "300ms")
	f = snap.find("OOM_KILLED")
	if f == nil || f.Severity != "warning" || ctr.Memory.OOMKills == nil || *ctr.Memory.OOMKills != kills {
		t.Fatalf("after the OOM kill: %s, oom_kills %v, the cgroup says %d", snap.codes(), ctr.Memory.OOMKills, kills)
	}
	if ctr.Memory.InWindow == nil || *ctr.Memory.InWindow != 0 {
		t.Errorf("the kill was before the window: in window %v", ctr.Memory.InWindow)
	}
}

// near reports whether a and b differ by at most slack.
func near(a, b, slack uint64) bool { return a <= b+slack && b <= a+slack }

// waitExit waits for a started process to be killed (its wrapper reaped).
func waitExit(p *realnode.Proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !realnode.Alive(p.PID) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("pid %d still alive after %s: no OOM kill", p.PID, timeout)
}

// TestContainerCPUThrottled: a busy loop under a 0.2 CPU quota is throttled in most CFS
// periods of the window; the numbers are those of the window, not since the cgroup began.
func TestContainerCPUThrottled(t *testing.T) {
	dir := v1Cgroup(t, "cpu", "nodeinspect-test-"+randomName(4))
	writeFile(t, filepath.Join(dir, "cpu.cfs_period_us"), "100000")
	writeFile(t, filepath.Join(dir, "cpu.cfs_quota_us"), "20000")
	p := realnode.Start(t, "busy.js", realnode.InCgroups(dir))
	snap, ctr, stderr := reportContainer(t, p.PID, "--sample", "1s")
	if ctr == nil || ctr.CPU.QuotaCPUs == nil || *ctr.CPU.QuotaCPUs != 0.2 {
		t.Fatalf("container %+v; stderr %s", ctr, stderr)
	}
	c := ctr.CPU
	if c.Periods == nil || c.ThrottledPeriods == nil || c.WindowSeconds == nil || c.ThrottledSeconds == nil {
		t.Fatalf("cpu %+v; stderr %s", c, stderr)
	}
	// 100 ms periods: a window of w seconds holds at most w×10 + 1 of them (a partial one
	// at each end); more would be totals since the cgroup was made.
	if max := uint64(*c.WindowSeconds*10) + 2; *c.Periods == 0 || *c.Periods > max {
		t.Errorf("%d periods in a %.2f s window (at most %d)", *c.Periods, *c.WindowSeconds, max)
	}
	if total := readKeyed(t, filepath.Join(dir, "cpu.stat"), "nr_periods"); total < *c.Periods {
		t.Errorf("window periods %d above the cgroup's total %d", *c.Periods, total)
	}
	f := snap.find("CPU_THROTTLED")
	if f == nil {
		t.Fatalf("no CPU_THROTTLED: %s (cpu %+v)", snap.codes(), c)
	}
	if !strings.Contains(f.Summary, "0.2 CPUs") || f.Evidence["quota_cpus"] != 0.2 {
		t.Errorf("finding %+v", f)
	}
}

// TestContainerPidsNearLimit: pids.max set to the tasks a Node.js process already has (its
// threads count), so none can be added: PIDS_NEAR_LIMIT at 100%.
func TestContainerPidsNearLimit(t *testing.T) {
	dir := v1Cgroup(t, "pids", "nodeinspect-test-"+randomName(4))
	p := realnode.Start(t, "idle.js", realnode.InCgroups(dir))
	n := readUint(t, filepath.Join(dir, "pids.current"))
	writeFile(t, filepath.Join(dir, "pids.max"), strconv.FormatUint(n, 10))
	snap, ctr, stderr := reportContainer(t, p.PID, "--sample", "0")
	if ctr == nil || ctr.Pids.Max == nil || *ctr.Pids.Max != n || ctr.Pids.Current == nil || *ctr.Pids.Current != n {
		t.Fatalf("pids %+v, the cgroup has %d; stderr %s", ctr, n, stderr)
	}
	f := snap.find("PIDS_NEAR_LIMIT")
	if f == nil || f.Evidence["current"] != float64(n) || f.Evidence["max"] != float64(n) {
		t.Fatalf("%s; %+v", snap.codes(), f)
	}
	// One more allowed task: below 90% only when n < 9, so compare with the rule's threshold.
	writeFile(t, filepath.Join(dir, "pids.max"), strconv.FormatUint(n*2, 10))
	snap, _, _ = reportContainer(t, p.PID, "--sample", "0")
	if snap.find("PIDS_NEAR_LIMIT") != nil {
		t.Errorf("%d of %d tasks flagged", n, n*2)
	}
}

// TestContainerOwnNamespaces: a Node.js process that is pid 1 of its own pid, mount and
// network namespaces (as a container's main process), inspected from the host: the pid in
// the container is 1, and --attach reaches its inspector inside its network namespace.
func TestContainerOwnNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: unshare --pid --mount --net")
	}
	p := realnode.Start(t, "idle.js", realnode.InPidNS(), realnode.InNetNS())
	pid := p.Children[0]
	if p.Ready["pid"] != float64(1) {
		t.Fatalf("node's own pid %v, want 1", p.Ready["pid"])
	}
	snap, ctr, stderr := reportContainer(t, pid, "--sample", "300ms")
	if ctr == nil || ctr.PIDInContainer == nil || *ctr.PIDInContainer != 1 {
		t.Fatalf("container %+v; stderr %s", ctr, stderr)
	}
	if snap.Process.PID != pid || snap.EventLoop == nil || snap.EventLoop.Verdict != "turning" {
		t.Errorf("process %+v loop %+v", snap.Process, snap.EventLoop)
	}
	_, a, stderr, _ := attachRun(t, "report", pid)
	if a.Attach.Status != "ok" || a.Node == nil || a.Node.Version == "" || a.Attach.Closed == nil || !*a.Attach.Closed {
		t.Fatalf("attach %+v; stderr %s", *a.Attach, stderr)
	}
	if !realnode.Alive(pid) {
		t.Fatal("the target died")
	}
}
