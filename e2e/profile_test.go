package e2e

// profile, heap and arm on real Node.js processes (testdata/node/prof_*.js). Every test
// gives its target an inspector port of its own, and ends by checking that no inspector
// nodeinspect opened is left listening (the profiler lives in the session: with the
// inspector closed, no session and no profiler is left).

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/internal/realnode"
)

// profTarget starts a prof_*.js script with its own inspector port; closers watching it
// are killed when the test ends.
func profTarget(t *testing.T, script string, opts ...realnode.Option) *realnode.Proc {
	t.Helper()
	port := safePort(t)
	flag := realnode.NodeFlags(fmt.Sprintf("--inspect-port=127.0.0.1:%d", port))
	p := realnode.Start(t, script, append([]realnode.Option{flag}, opts...)...)
	t.Cleanup(func() { killClosers(p.PID) })
	return p
}

// noInspectorLeft fails the test when pid still listens on a port other than skip once
// the closers had their grace time.
func noInspectorLeft(t *testing.T, pid, skip int) {
	t.Helper()
	if left := waitNoInspector(pid, skip, closeGrace); len(left) > 0 {
		t.Errorf("inspector left open on process %d: %v", pid, left)
	}
}

type profileDoc struct {
	Profile struct {
		Samples int  `json:"samples"`
		Idle    bool `json:"idle"`
		Top     []struct {
			Function    string  `json:"function"`
			URL         string  `json:"url"`
			Line        int     `json:"line"`
			SelfPercent float64 `json:"self_percent"`
		} `json:"top"`
	} `json:"profile"`
	File     *string  `json:"file"`
	Warnings []string `json:"warnings"`
	Attach   struct {
		Status string `json:"status"`
		Closed *bool  `json:"closed"`
	} `json:"attach"`
}

func decodeProfile(t *testing.T, stdout string) profileDoc {
	t.Helper()
	var d profileDoc
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("profile --json: %v\n%s", err, stdout)
	}
	return d
}

// TestProfileNamesTheHotFunction: prof_busy.js spends ~80% of its time in burnCPU
// (prof_busy.js line 9). It tops the self list of the JSON, of `go tool pprof -top` on the
// .pb.gz, the largest stack of the .folded, and the .cpuprofile is Chrome's format.
func TestProfileNamesTheHotFunction(t *testing.T) {
	t.Parallel()
	p := profTarget(t, "prof_busy.js")
	env := safeEnv(t)
	dir := t.TempDir()
	for _, ext := range []string{".pb.gz", ".cpuprofile", ".folded"} {
		file := filepath.Join(dir, "p"+ext)
		stdout, stderr, code := runNI(t, env, "profile", fmt.Sprint(p.PID), "--duration", "1500ms", "-o", file, "--json")
		if code != 0 {
			t.Fatalf("profile %s: exit %d; stderr %s", ext, code, stderr)
		}
		d := decodeProfile(t, stdout)
		if len(d.Profile.Top) == 0 || d.Profile.Top[0].Function != "burnCPU" || !strings.HasSuffix(d.Profile.Top[0].URL, "prof_busy.js") || d.Profile.Top[0].Line != 9 {
			t.Fatalf("%s: top of the self list %+v, want burnCPU prof_busy.js:9", ext, d.Profile.Top)
		}
		// burnCPU runs 20 ms of every ~21 ms; on a loaded machine the loop's own work and
		// idle gaps grow, so only "most of the time" is asserted.
		if d.Profile.Top[0].SelfPercent < 40 {
			t.Errorf("burnCPU self %.1f%%, want most of the time", d.Profile.Top[0].SelfPercent)
		}
		if d.File == nil || *d.File != file || d.Attach.Closed == nil || !*d.Attach.Closed {
			t.Errorf("file %v, attach %+v", d.File, d.Attach)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		switch ext {
		case ".pb.gz":
			out, err := exec.Command("go", "tool", "pprof", "-top", file).CombinedOutput()
			if err != nil {
				t.Fatalf("go tool pprof -top: %v\n%s", err, out)
			}
			rows := regexp.MustCompile(`(?m)^\s+\S+ +\S+% +\S+% +\S+ +\S+% +(.+)$`).FindAllStringSubmatch(string(out), -1)
			if len(rows) == 0 || strings.TrimSpace(rows[0][1]) != "burnCPU" {
				t.Errorf("go tool pprof -top does not put burnCPU first:\n%s", out)
			}
		case ".cpuprofile":
			var cp struct {
				Nodes []struct {
					ID        int `json:"id"`
					CallFrame struct {
						FunctionName string `json:"functionName"`
						URL          string `json:"url"`
						LineNumber   *int   `json:"lineNumber"`
					} `json:"callFrame"`
					Children []int `json:"children"`
				} `json:"nodes"`
				StartTime, EndTime *int64
				Samples            []int   `json:"samples"`
				TimeDeltas         []int64 `json:"timeDeltas"`
			}
			if err := json.Unmarshal(data, &cp); err != nil {
				t.Fatalf(".cpuprofile is not JSON: %v", err)
			}
			if len(cp.Nodes) == 0 || cp.Nodes[0].CallFrame.FunctionName != "(root)" || cp.StartTime == nil || cp.EndTime == nil ||
				len(cp.Samples) == 0 || len(cp.Samples) != len(cp.TimeDeltas) || cp.Nodes[0].CallFrame.LineNumber == nil {
				t.Errorf(".cpuprofile is not Chrome's Profile shape: %d nodes, %d samples, %d deltas", len(cp.Nodes), len(cp.Samples), len(cp.TimeDeltas))
			}
		case ".folded":
			best, bestN := "", 0
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				i := strings.LastIndexByte(line, ' ')
				var n int
				if i < 0 || func() bool { _, err := fmt.Sscan(line[i+1:], &n); return err != nil }() {
					t.Fatalf("folded line %q is not 'stack count'", line)
				}
				if n > bestN {
					best, bestN = line[:i], n
				}
			}
			if frames := strings.Split(best, ";"); !strings.HasPrefix(frames[len(frames)-1], "burnCPU (") {
				t.Errorf("largest folded stack %q does not end in burnCPU", best)
			}
		}
		noInspectorLeft(t, p.PID, 0)
	}
}

// TestProfileIdleProcess: a process that waits says "idle", not an empty table.
func TestProfileIdleProcess(t *testing.T) {
	t.Parallel()
	p := profTarget(t, "prof_heap.js", realnode.Args("10", "noleak"))
	stdout, stderr, code := runNI(t, safeEnv(t), "profile", fmt.Sprint(p.PID), "--duration", "1s")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if !strings.Contains(stdout, "idle:") || strings.Contains(stdout, "top functions") {
		t.Errorf("idle profile output:\n%s", stdout)
	}
	noInspectorLeft(t, p.PID, 0)
}

// TestProfileBadInput: refusals before anything is sent (exit 2, no inspector opened).
func TestProfileBadInput(t *testing.T) {
	t.Parallel()
	p := profTarget(t, "prof_heap.js", realnode.Args("10", "noleak"))
	exists := filepath.Join(t.TempDir(), "there.pb.gz")
	if err := os.WriteFile(exists, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	pid := fmt.Sprint(p.PID)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"profile", pid, "--duration", "50ms"}, "--duration 50ms is out of range"},
		{[]string{"profile", pid, "--duration", "2h"}, "out of range"},
		{[]string{"profile", pid, "-o", exists}, "exists"},
		{[]string{"profile", pid, "-o", "/nonexistent-dir/p.pb.gz"}, "cannot write to directory"},
		{[]string{"profile", pid, "-o", "p.txt"}, "ending in .cpuprofile, .pb.gz, .folded"},
		{[]string{"heap", pid, "--snapshot"}, "needs -o"},
		{[]string{"heap", pid, "--snapshot", "-o", "x.heapprofile"}, "ending in .heapsnapshot"},
		{[]string{"heap", pid, "--snapshot", "-o", "x.heapsnapshot", "--duration", "1s"}, "--duration does not apply"},
		{[]string{"heap", pid, "--snapshot-timeout", "1m"}, "applies to --snapshot only"},
		{[]string{"arm", pid, "--show", "--disarm"}, "contradict"},
		{[]string{"arm", pid, "--dir", "/nonexistent-dir"}, "not a directory"},
	}
	for _, c := range cases {
		_, stderr, code := runNI(t, safeEnv(t), c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	if left := inspectors(p.PID, 0); len(left) > 0 {
		t.Errorf("a refused run opened an inspector: %v", left)
	}
	if data, _ := os.ReadFile(exists); string(data) != "x" {
		t.Errorf("the existing file was changed")
	}
}

// TestProfileTargetExits: the target exits mid-profile; what was recorded is written with
// a warning, at once (the target is not held until --duration ends).
func TestProfileTargetExits(t *testing.T) {
	t.Parallel()
	p := profTarget(t, "prof_exit.js", realnode.Args("4000"))
	file := filepath.Join(t.TempDir(), "exit.cpuprofile")
	start := time.Now()
	stdout, stderr, code := runNI(t, safeEnv(t), "profile", fmt.Sprint(p.PID), "--duration", "60s", "-o", file, "--json")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	// The target exits about 4 s after it started; 30 s leaves room for a loaded machine
	// and is still far below the 60 s asked for.
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("profile took %s: the exiting target was held", took)
	}
	d := decodeProfile(t, stdout)
	if !strings.Contains(strings.Join(d.Warnings, "\n"), "exit") || d.Profile.Samples == 0 {
		t.Errorf("warnings %q, %d samples", d.Warnings, d.Profile.Samples)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("no profile written: %v", err)
	}
	if !waitExited(p.PID, 10*time.Second) {
		t.Errorf("the target did not finish exiting after the profile")
	}
}

// TestProfileInterrupted: Ctrl-C ends the profile early, still writes it, exits 130, and
// leaves no inspector.
func TestProfileInterrupted(t *testing.T) {
	t.Parallel()
	p := profTarget(t, "prof_busy.js")
	file := filepath.Join(t.TempDir(), "int.pb.gz")
	n := startNI(t, safeEnv(t), "profile", fmt.Sprint(p.PID), "--duration", "60s", "-o", file)
	// Wait until the profile runs: the inspector is open and nodeinspect connected.
	if !waitInspector(p.PID, 0, 20*time.Second) {
		t.Fatalf("no inspector opened; stderr %s", n.err.String())
	}
	time.Sleep(time.Second) // let it record something; the test asserts only "something"
	_ = n.cmd.Process.Signal(syscall.SIGINT)
	if code := n.wait(t, 30*time.Second); code != 130 {
		t.Fatalf("exit %d after SIGINT, want 130; stderr %s", code, n.err.String())
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("interrupted profile not written: %v", err)
	}
	noInspectorLeft(t, p.PID, 0)
}

type heapDoc struct {
	Heap struct {
		Mode       string `json:"mode"`
		TotalBytes uint64 `json:"total_bytes"`
		Top        []struct {
			Name      string  `json:"name"`
			URL       *string `json:"url"`
			Line      *int    `json:"line"`
			Count     *int    `json:"count"`
			SelfBytes uint64  `json:"self_bytes"`
		} `json:"top"`
	} `json:"heap"`
	Warnings []string `json:"warnings"`
}

// TestHeapSnapshotSummary: 150000 RetainedWidget objects are retained; the snapshot is
// streamed to the file and its summary counts them (within 5%) with the largest self size;
// analyze of the same file says the same.
func TestHeapSnapshotSummary(t *testing.T) {
	t.Parallel()
	const widgets = 150000
	p := profTarget(t, "prof_heap.js", realnode.Args(fmt.Sprint(widgets), "noleak"))
	file := filepath.Join(t.TempDir(), "h.heapsnapshot")
	for i, args := range [][]string{
		{"heap", fmt.Sprint(p.PID), "--snapshot", "-o", file, "--json", "--top", "0"},
		{"analyze", file, "--json"},
	} {
		stdout, stderr, code := runNI(t, safeEnv(t), args...)
		if code != 0 {
			t.Fatalf("%v: exit %d; stderr %s", args, code, stderr)
		}
		var d heapDoc
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		bySelf, count := "", 0
		var most uint64
		for _, r := range d.Heap.Top {
			if r.SelfBytes > most {
				bySelf, most = r.Name, r.SelfBytes
			}
			if r.Name == "RetainedWidget" && r.Count != nil {
				count = *r.Count
			}
		}
		if d.Heap.Mode != "snapshot" || bySelf != "RetainedWidget" {
			t.Errorf("%v: mode %q, largest self size %q, want RetainedWidget", args, d.Heap.Mode, bySelf)
		}
		if !within(uint64(count), widgets, 0.05) {
			t.Errorf("%v: RetainedWidget count %d, want %d ± 5%%", args, count, widgets)
		}
		if i == 0 {
			noInspectorLeft(t, p.PID, 0)
		}
	}
	// A truncated copy is a clear error, exit 2.
	data, _ := os.ReadFile(file)
	cut := filepath.Join(t.TempDir(), "cut.heapsnapshot")
	os.WriteFile(cut, data[:len(data)/2], 0o644)
	_, stderr, code := runNI(t, safeEnv(t), "analyze", cut)
	if code != 2 || !strings.Contains(stderr, "truncated heap snapshot") {
		t.Errorf("truncated snapshot: exit %d, %q", code, stderr)
	}
}

// TestHeapSamplingNamesTheAllocator: allocateLeaky keeps what it allocates; the sampling
// profile names it first.
func TestHeapSamplingNamesTheAllocator(t *testing.T) {
	t.Parallel()
	p := profTarget(t, "prof_heap.js", realnode.Args("1000"))
	file := filepath.Join(t.TempDir(), "s.pb.gz")
	stdout, stderr, code := runNI(t, safeEnv(t), "heap", fmt.Sprint(p.PID), "--duration", "1500ms", "-o", file, "--json")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	var d heapDoc
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatal(err)
	}
	if d.Heap.Mode != "sampling" || len(d.Heap.Top) == 0 || d.Heap.Top[0].Name != "allocateLeaky" || d.Heap.Top[0].URL == nil || !strings.HasSuffix(*d.Heap.Top[0].URL, "prof_heap.js") {
		t.Errorf("sampling top: %+v", d.Heap.Top)
	}
	out, err := exec.Command("go", "tool", "pprof", "-top", file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "allocateLeaky") {
		t.Errorf("go tool pprof -top: %v\n%s", err, out)
	}
	noInspectorLeft(t, p.PID, 0)
}

// TestHeapSnapshotGate: the headroom gate refuses a snapshot whose heap does not fit in
// what the memory cgroup leaves (exit 2, no file), and --force overrides it (with the
// injected figure, so the forced snapshot cannot push the target into a real limit).
func TestHeapSnapshotGate(t *testing.T) {
	t.Parallel()
	p := profTarget(t, "prof_heap.js", realnode.Args("300000", "noleak"))
	file := filepath.Join(t.TempDir(), "g.heapsnapshot")

	// A v1 memory cgroup limited to 16 MiB, below the ~30 MB heap of 300000 widgets. Charges
	// made before the move stay with the old group, so the limit bites only what the idle
	// target allocates from now on.
	parent := "/sys/fs/cgroup/memory" + memoryCgroupOf(t, os.Getpid())
	cg := filepath.Join(parent, fmt.Sprintf("nodeinspect-gate-%d", p.PID))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Skipf("cannot make a memory cgroup here: %v", err)
	}
	t.Cleanup(func() {
		if realnode.Alive(p.PID) {
			os.WriteFile(filepath.Join(parent, "cgroup.procs"), []byte(fmt.Sprint(p.PID)), 0o644)
		}
		if err := os.Remove(cg); err != nil {
			t.Errorf("remove %s: %v", cg, err)
		}
	})
	if err := os.WriteFile(filepath.Join(cg, "memory.limit_in_bytes"), []byte(fmt.Sprint(16<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(fmt.Sprint(p.PID)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runNI(t, safeEnv(t), "heap", fmt.Sprint(p.PID), "--snapshot", "-o", file)
	if code != 2 || !strings.Contains(stderr, "refused") || !strings.Contains(stderr, "memory cgroup") {
		t.Errorf("gate: exit %d, stderr %q; want 2 and a refusal naming the cgroup", code, stderr)
	}
	if _, err := os.Stat(file); err == nil {
		t.Errorf("a refused snapshot wrote %s", file)
	}
	noInspectorLeft(t, p.PID, 0)
	// Back to the parent before the forced snapshot: it may need as much as the heap.
	if err := os.WriteFile(filepath.Join(parent, "cgroup.procs"), []byte(fmt.Sprint(p.PID)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(safeEnv(t), "NODEINSPECT_MEM_AVAILABLE=1048576")
	_, stderr, code = runNI(t, env, "heap", fmt.Sprint(p.PID), "--snapshot", "-o", file)
	if code != 2 || !strings.Contains(stderr, "available 1 MiB") {
		t.Errorf("injected 1 MiB: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runNI(t, env, "heap", fmt.Sprint(p.PID), "--snapshot", "-o", file, "--force")
	if code != 0 || !strings.Contains(stderr, "--force") {
		t.Errorf("--force: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("--force wrote no snapshot: %v", err)
	}
	noInspectorLeft(t, p.PID, 0)
}

// memoryCgroupOf is the v1 memory cgroup path of pid.
func memoryCgroupOf(t *testing.T, pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.SplitN(line, ":", 3); len(f) == 3 && strings.Contains(","+f[1]+",", ",memory,") {
			return f[2]
		}
	}
	t.Skip("no v1 memory cgroup")
	return ""
}

type armDoc struct {
	Arm struct {
		Old     map[string]any `json:"old"`
		New     map[string]any `json:"new"`
		Changed []string       `json:"changed"`
	} `json:"arm"`
}

// TestArmThenCrashLeavesAReport: arm switches the report on; a real uncaught exception then
// writes it into --dir. On a second process, --disarm restores what arm found, and the
// crash leaves nothing in the directory.
func TestArmThenCrashLeavesAReport(t *testing.T) {
	t.Parallel()
	env := safeEnv(t) // one state dir for arm and disarm
	for _, disarm := range []bool{false, true} {
		dir := t.TempDir()
		trigger := filepath.Join(t.TempDir(), "crash-now")
		p := profTarget(t, "prof_crash.js", realnode.Args(trigger))
		stdout, stderr, code := runNI(t, env, "arm", fmt.Sprint(p.PID), "--dir", dir, "--json", "--no-heap-snapshot")
		if code != 0 {
			t.Fatalf("arm: exit %d; stderr %s", code, stderr)
		}
		var d armDoc
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatal(err)
		}
		if d.Arm.Old["report_on_uncaught_exception"] != false || d.Arm.New["report_on_uncaught_exception"] != true || d.Arm.New["report_directory"] != dir {
			t.Errorf("arm: old %v new %v", d.Arm.Old, d.Arm.New)
		}
		noInspectorLeft(t, p.PID, 0)
		if disarm {
			stdout, stderr, code := runNI(t, env, "arm", fmt.Sprint(p.PID), "--disarm", "--json")
			if code != 0 {
				t.Fatalf("disarm: exit %d; stderr %s", code, stderr)
			}
			var d armDoc
			json.Unmarshal([]byte(stdout), &d)
			if d.Arm.New["report_on_uncaught_exception"] != false || d.Arm.New["report_on_fatal_error"] != false || d.Arm.New["report_directory"] != "" {
				t.Errorf("disarm did not restore: new %v", d.Arm.New)
			}
			noInspectorLeft(t, p.PID, 0)
		}
		if err := os.WriteFile(trigger, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if !waitExited(p.PID, 20*time.Second) {
			t.Fatalf("the target did not crash")
		}
		reports, _ := filepath.Glob(filepath.Join(dir, "report.*.json"))
		if !disarm {
			if len(reports) != 1 {
				t.Fatalf("armed: %d reports in %s, want 1", len(reports), dir)
			}
			data, _ := os.ReadFile(reports[0])
			if !strings.Contains(string(data), "prof_crash: triggered") {
				t.Errorf("the report does not hold the exception")
			}
		} else if len(reports) != 0 {
			t.Errorf("disarmed: the crash still wrote %v", reports)
		}
	}
}

// TestProfileSourceMapped: burnMapped starts at prof_mapped.js:8, which its source map
// places at prof_src/mapped.ts:108; --no-source-maps shows the generated position.
func TestProfileSourceMapped(t *testing.T) {
	t.Parallel()
	p := profTarget(t, "prof_mapped.js")
	for _, mapped := range []bool{true, false} {
		args := []string{"profile", fmt.Sprint(p.PID), "--duration", "1s", "--json"}
		if !mapped {
			args = append(args, "--no-source-maps")
		}
		stdout, stderr, code := runNI(t, safeEnv(t), args...)
		if code != 0 {
			t.Fatalf("%v: exit %d; stderr %s", args, code, stderr)
		}
		var d struct {
			Profile struct {
				Top []struct {
					Function string `json:"function"`
					URL      string `json:"url"`
					Line     int    `json:"line"`
					Mapped   bool   `json:"mapped"`
				} `json:"top"`
			} `json:"profile"`
		}
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Profile.Top) == 0 {
			t.Fatalf("%v: empty top", args)
		}
		top := d.Profile.Top[0]
		wantURL, wantLine := "prof_src/mapped.ts", 108
		if !mapped {
			wantURL, wantLine = "prof_mapped.js", 8
		}
		if top.Function != "burnMapped" || !strings.HasSuffix(top.URL, wantURL) || top.Line != wantLine || top.Mapped != mapped {
			t.Errorf("%v: top %+v, want burnMapped at %s:%d mapped=%v", args, top, wantURL, wantLine, mapped)
		}
		noInspectorLeft(t, p.PID, 0)
	}
}

// TestProfileSegmentsMerge: a profile taken in segments (shortened to 400 ms here; 5 min by
// default) comes back as one profile covering the whole duration.
func TestProfileSegmentsMerge(t *testing.T) {
	t.Parallel()
	p := profTarget(t, "prof_busy.js")
	file := filepath.Join(t.TempDir(), "seg.cpuprofile")
	env := append(safeEnv(t), "NODEINSPECT_CPU_SEGMENT=400ms")
	stdout, stderr, code := runNI(t, env, "profile", fmt.Sprint(p.PID), "--duration", "2s", "-o", file, "--json")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	var d struct {
		Profile struct {
			DurationMS float64 `json:"duration_ms"`
			Top        []struct {
				Function string `json:"function"`
			} `json:"top"`
		} `json:"profile"`
	}
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatal(err)
	}
	// Five segments of 400 ms: the merged profile spans them all (the gaps between
	// segments, one stop each, are milliseconds; 1.8 s leaves room for them).
	if d.Profile.DurationMS < 1800 || len(d.Profile.Top) == 0 || d.Profile.Top[0].Function != "burnCPU" {
		t.Errorf("merged profile: %.0f ms, top %+v", d.Profile.DurationMS, d.Profile.Top)
	}
	var cp struct {
		Nodes      []json.RawMessage `json:"nodes"`
		Samples    []int             `json:"samples"`
		TimeDeltas []int64           `json:"timeDeltas"`
		StartTime  int64             `json:"startTime"`
		EndTime    int64             `json:"endTime"`
	}
	data, _ := os.ReadFile(file)
	if err := json.Unmarshal(data, &cp); err != nil || len(cp.Samples) != len(cp.TimeDeltas) || cp.EndTime-cp.StartTime < 1800000 {
		t.Errorf("merged .cpuprofile: %v, %d samples, %d deltas, %d µs", err, len(cp.Samples), len(cp.TimeDeltas), cp.EndTime-cp.StartTime)
	}
	noInspectorLeft(t, p.PID, 0)
}
