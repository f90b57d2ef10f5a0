package e2e

// The event-loop verdict on real Node.js processes: progress, not one sampled state.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/internal/realnode"
)

// loopDoc is the part of a report the loop tests read.
type loopDoc struct {
	EventLoop *struct {
		Verdict           string         `json:"verdict"`
		Reason            string         `json:"reason"`
		BusyPercent       *float64       `json:"busy_percent"`
		SyscallsPerSecond *float64       `json:"syscalls_per_second"`
		Seen              map[string]int `json:"seen"`
		WaitingFor        []struct {
			PID     int    `json:"pid"`
			Command string `json:"command"`
		} `json:"waiting_for"`
	} `json:"event_loop"`
	Findings []finding `json:"findings"`
}

func (d loopDoc) find(code string) *finding {
	for i := range d.Findings {
		if d.Findings[i].Code == code {
			return &d.Findings[i]
		}
	}
	return nil
}

// loopReport runs `report PID --json` with bin and decodes the loop part.
func loopReport(t *testing.T, bin string, pid int, extra ...string) (loopDoc, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"report", strconv.Itoa(pid), "--json"}, extra...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() > 1 {
		t.Fatalf("%s report: exit %d: %s", bin, ee.ExitCode(), errb.String())
	} else if err != nil && !ok {
		t.Fatal(err)
	}
	var d loopDoc
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("report is not JSON: %v\n%.300s", err, out.String())
	}
	return d, errb.String()
}

// load drives a plain HTTP server on loopback from this test: keep-alive clients and
// clients that open a new connection per request, as fast as the server answers, until
// stop. Bounded: 20 clients, and at most 5 million requests (the tests stop it far sooner).
type load struct {
	done   atomic.Int64
	errs   atomic.Int64
	start  time.Time
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startLoad(t *testing.T, port int) *load {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	l := &load{start: time.Now(), cancel: cancel}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	keepAlive := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	const maxRequests = 5_000_000
	worker := func(c *http.Client) {
		defer l.wg.Done()
		for ctx.Err() == nil && l.done.Load() < maxRequests {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := c.Do(req)
			if err != nil {
				l.errs.Add(1)
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			l.done.Add(1)
		}
	}
	for i := 0; i < 16; i++ {
		l.wg.Add(1)
		go worker(keepAlive)
	}
	for i := 0; i < 4; i++ {
		l.wg.Add(1)
		go worker(fresh)
	}
	t.Cleanup(l.stop)
	return l
}

// stop ends the load and waits for its clients.
func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}

// rate is the requests per second answered so far.
func (l *load) rate() float64 { return float64(l.done.Load()) / time.Since(l.start).Seconds() }

// waitFor polls cond every 10 ms until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLoopBusyServerIsNotBlocked: a healthy server under the highest load this test can
// put on it is on a CPU in most samples, but completes thousands of system calls a second:
// never EVENT_LOOP_BLOCKED in 20 reports. Then a synchronous 2-second CPU task on one route
// (plain spinning, and spinning while allocating, so the garbage collector's futex waits
// and mmaps happen): blocked, every time.
//
// NODEINSPECT_COMPARE_BINARY names another nodeinspect build to count its verdicts under
// the same load (the false-alarm rate before and after), logged, not asserted.
func TestLoopBusyServerIsNotBlocked(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "task")
	p := realnode.Start(t, "loop_server.js", realnode.Args(marker))
	l := startLoad(t, p.Port)
	waitFor(t, "the load to reach the server", 10*time.Second, func() bool { return l.done.Load() > 500 })

	verdicts := map[string]int{}
	for i := 0; i < 20; i++ {
		d, _ := loopReport(t, binary, p.PID)
		if d.EventLoop == nil {
			t.Fatal("no event_loop in the report")
		}
		verdicts[d.EventLoop.Verdict]++
		if f := d.find("EVENT_LOOP_BLOCKED"); f != nil {
			t.Errorf("report %d under load: EVENT_LOOP_BLOCKED: %s %v", i, f.Summary, f.Evidence)
		}
		if v := d.EventLoop.Verdict; v != "turning" && v != "saturated" {
			t.Errorf("report %d under load: verdict %q (%s)", i, v, d.EventLoop.Reason)
		}
	}
	t.Logf("under load (%.0f req/s, %d errors): new verdicts %v", l.rate(), l.errs.Load(), verdicts)
	if other := os.Getenv("NODEINSPECT_COMPARE_BINARY"); other != "" {
		old := map[string]int{}
		for i := 0; i < 20; i++ {
			d, _ := loopReport(t, other, p.PID)
			if d.EventLoop != nil {
				old[d.EventLoop.Verdict]++
			}
		}
		t.Logf("under load (%.0f req/s): %s verdicts %v", l.rate(), other, old)
	}

	// The CPU task: the report's whole window must fall inside the task (the server writes
	// marker.end when it ends); a run whose window did not is repeated, not judged.
	for _, route := range []string{"cpu", "cpu", "cpu", "alloc", "alloc"} {
		judged := false
		for attempt := 0; attempt < 3 && !judged; attempt++ {
			os.Remove(marker + ".start")
			os.Remove(marker + ".end")
			go func() {
				resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/%s?ms=2000", p.Port, route))
				if err == nil {
					resp.Body.Close()
				}
			}()
			waitFor(t, "the CPU task to start", 10*time.Second, func() bool { _, err := os.Stat(marker + ".start"); return err == nil })
			d, _ := loopReport(t, binary, p.PID)
			if _, err := os.Stat(marker + ".end"); err == nil {
				t.Logf("/%s: the task ended before the report did (a slow machine); again", route)
				continue
			}
			if d.EventLoop != nil && d.EventLoop.Reason == "starved" {
				t.Logf("/%s: the main thread hardly got a CPU in the window (a crowded machine); again", route)
				waitFor(t, "the task to end", 10*time.Second, func() bool { _, err := os.Stat(marker + ".end"); return err == nil })
				continue
			}
			judged = true
			// While allocating, the garbage collector may keep the main thread waiting for
			// its helpers (a futex) in many samples: still no read or write, still blocked.
			f := d.find("EVENT_LOOP_BLOCKED")
			if f == nil || d.EventLoop.Verdict != "blocked" || (d.EventLoop.Reason != "no_syscalls" && d.EventLoop.Reason != "one_syscall") {
				t.Errorf("/%s: a 2 s synchronous task is not blocked: %+v %v", route, d.EventLoop, d.Findings)
			} else if route == "cpu" && f.Evidence["main_thread"] != "running" {
				t.Errorf("/%s: main thread %v, want running", route, f.Evidence["main_thread"])
			}
			waitFor(t, "the task to end", 10*time.Second, func() bool { _, err := os.Stat(marker + ".end"); return err == nil })
		}
		if !judged {
			t.Errorf("/%s: no report fitted inside the 2 s task in 3 attempts", route)
		}
	}
}

// TestLoopSaturated: a loop that turns (a write every turn) but spends every turn in 20 ms
// of synchronous work is saturated, not blocked.
func TestLoopSaturated(t *testing.T) {
	t.Parallel()
	p := realnode.Start(t, "loop_saturated.js")
	d, _ := loopReport(t, binary, p.PID, "--sample", "500ms")
	if d.EventLoop == nil || d.EventLoop.Verdict != "saturated" || d.find("EVENT_LOOP_BLOCKED") != nil {
		t.Fatalf("event loop %+v, findings %v", d.EventLoop, d.Findings)
	}
	f := d.find("EVENT_LOOP_SATURATED")
	if f == nil || f.Severity != "warning" {
		t.Fatalf("no EVENT_LOOP_SATURATED warning: %v", d.Findings)
	}
	busy, _ := f.Evidence["busy_percent"].(float64)
	rate, _ := f.Evidence["syscalls_per_second"].(float64)
	// 20 ms turns make about 50 writes a second; a crowded machine stretches the turns,
	// so only "some" is asserted.
	if busy < 90 || rate <= 0 || f.Evidence["window_ms"] == nil {
		t.Errorf("evidence %v", f.Evidence)
	}
	// The shared window does not settle a loop that is seen in epoll but busy: ps agrees.
	if v := psLoop(t, p.PID, "--sample", "500ms"); v != "saturated" {
		t.Errorf("ps says the saturated loop is %q", v)
	}
}

// TestLoopUnprivilegedIsUnknown: read as another user, the main thread's system call and
// counters are denied (wchan reads 0): the verdict is unknown, never blocked, with a
// warning saying what to run, for an idle server, a server under load and a busy loop;
// ps says unknown too.
func TestLoopUnprivilegedIsUnknown(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the binary as another user")
	}
	t.Parallel()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal("setpriv not found (util-linux)")
	}
	bin := binaryForNobody(t)
	idle := realnode.Start(t, "loop_server.js")
	busy := realnode.Start(t, "busy.js")
	loaded := realnode.Start(t, "loop_server.js")
	l := startLoad(t, loaded.Port)
	waitFor(t, "the load to reach the server", 10*time.Second, func() bool { return l.done.Load() > 200 })
	asNobody := func(args ...string) (string, string) {
		cmd := exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin}, args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() > 1 {
			t.Fatalf("as nobody %v: exit %d: %s", args, ee.ExitCode(), errb.String())
		}
		return out.String(), errb.String()
	}
	for name, pid := range map[string]int{"idle": idle.PID, "busy loop": busy.PID, "under load": loaded.PID} {
		out, stderr := asNobody("report", strconv.Itoa(pid), "--json")
		var d loopDoc
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d.EventLoop == nil || d.EventLoop.Verdict != "unknown" || d.find("EVENT_LOOP_BLOCKED") != nil || d.find("EVENT_LOOP_SATURATED") != nil {
			t.Errorf("%s as nobody: loop %+v findings %v", name, d.EventLoop, d.Findings)
		}
		if d.EventLoop != nil && d.EventLoop.SyscallsPerSecond != nil {
			t.Errorf("%s as nobody: syscalls_per_second %v from a denied io file", name, *d.EventLoop.SyscallsPerSecond)
		}
		if !strings.Contains(stderr, "event loop verdict unknown") || !strings.Contains(stderr, "sudo") {
			t.Errorf("%s as nobody: stderr must say why and what to run: %q", name, stderr)
		}
	}
	out, _ := asNobody("ps", "--json")
	var ps struct {
		Processes []struct {
			PID   int      `json:"pid"`
			Loop  *string  `json:"loop"`
			Flags []string `json:"flags"`
		} `json:"processes"`
	}
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range ps.Processes {
		if r.PID != busy.PID && r.PID != idle.PID {
			continue
		}
		seen++
		if r.Loop == nil || *r.Loop != "unknown" || strings.Contains(strings.Join(r.Flags, ","), "EVENT_LOOP") {
			t.Errorf("ps as nobody, pid %d: loop %v flags %v", r.PID, r.Loop, r.Flags)
		}
	}
	if seen != 2 {
		t.Errorf("ps as nobody listed %d of the 2 processes", seen)
	}
}

// descendants lists the children of pid and theirs (from task/*/children).
func descendants(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		for _, f := range strings.Fields(string(data)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
				out = append(out, descendants(c)...)
			}
		}
	}
	return out
}

// TestLoopSpawnSyncIsBlocked: execSync, spawnSync and execFileSync wait in epoll_wait on
// a private loop's epoll fd: blocked, with the child named; also execSync in the first tick
// of a script, before the event loop ever ran.
func TestLoopSpawnSyncIsBlocked(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"execSync", "spawnSync", "execFileSync", "top"} {
		p := realnode.Start(t, "loop_spawnsync.js", realnode.Args(mode, "30"))
		var child int
		waitFor(t, mode+"'s child", 10*time.Second, func() bool {
			kids := descendants(p.PID)
			for _, k := range kids {
				if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", k)); bytes.Contains(cmd, []byte("sleep")) {
					if child == 0 {
						child = kids[0]
					}
					p.Children = append(p.Children, kids...)
					return true
				}
			}
			return false
		})
		// The child is forked before the private loop first waits: wait for that.
		waitFor(t, mode+"'s main thread in epoll_wait", 10*time.Second, func() bool {
			data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/wchan", p.PID, p.PID))
			return string(data) == "do_epoll_wait"
		})
		d, _ := loopReport(t, binary, p.PID)
		f := d.find("EVENT_LOOP_BLOCKED")
		if f == nil || d.EventLoop.Reason != "spawn_sync" {
			t.Errorf("%s: not blocked in a synchronous spawn: %+v %v", mode, d.EventLoop, d.Findings)
			continue
		}
		named := false
		for _, w := range d.EventLoop.WaitingFor {
			if w.PID == child && strings.Contains(w.Command, "sleep 30") {
				named = true
			}
		}
		if !named || !strings.Contains(f.Summary, strconv.Itoa(child)) {
			t.Errorf("%s: child %d not named: %+v / %s", mode, child, d.EventLoop.WaitingFor, f.Summary)
		}
		// ps's shared window reads a main thread with a child to the end: blocked too.
		if v := psLoop(t, p.PID); v != "blocked" {
			t.Errorf("%s: ps says the loop is %q", mode, v)
		}
	}
}

// psLoop is the loop verdict of pid in `ps --json` with extra flags (the shared window),
// "" when absent.
func psLoop(t *testing.T, pid int, extra ...string) string {
	t.Helper()
	out, stderr, code := run(t, append([]string{"ps", "--json"}, extra...)...)
	if code > 1 {
		t.Fatalf("ps exit %d: %s", code, stderr)
	}
	var ps struct {
		Processes []struct {
			PID  int     `json:"pid"`
			Loop *string `json:"loop"`
		} `json:"processes"`
	}
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatal(err)
	}
	for _, r := range ps.Processes {
		if r.PID == pid && r.Loop != nil {
			return *r.Loop
		}
	}
	return ""
}

// TestLoopIdleWithAsyncChildIsTurning: the event loop itself watching a child's stdio
// (an asynchronous spawn) is not a private loop: an idle server with a child is turning.
func TestLoopIdleWithAsyncChildIsTurning(t *testing.T) {
	t.Parallel()
	p := realnode.Start(t, "loop_spawnsync.js", realnode.Args("async", "30"))
	d, _ := loopReport(t, binary, p.PID)
	if d.EventLoop == nil || d.EventLoop.Verdict != "turning" || d.EventLoop.Reason != "idle" || d.find("EVENT_LOOP_BLOCKED") != nil {
		t.Errorf("idle server with an async child: %+v %v", d.EventLoop, d.Findings)
	}
	if v := psLoop(t, p.PID); v != "turning" {
		t.Errorf("idle server with an async child: ps says the loop is %q", v)
	}
}

// TestLoopThreadIDAndZombie: a thread id resolves to its process with a note; a Node.js
// zombie is "has exited" (exit 3), not "not a Node.js process".
func TestLoopThreadIDAndZombie(t *testing.T) {
	t.Parallel()
	p := realnode.Start(t, "loop_server.js")
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", p.PID))
	if err != nil {
		t.Fatal(err)
	}
	tid := 0
	for _, e := range tasks {
		if n, _ := strconv.Atoi(e.Name()); n != p.PID && n > 0 {
			tid = n
			break
		}
	}
	if tid == 0 {
		t.Fatal("node has no second thread")
	}
	out, stderr, code := run(t, "report", strconv.Itoa(tid), "--json", "--sample", "0")
	if code != 0 || decode(t, out).Process.PID != p.PID || !strings.Contains(stderr, fmt.Sprintf("%d is a thread of process %d", tid, p.PID)) {
		t.Errorf("tid %d: exit %d, stderr %q", tid, code, stderr)
	}

	z := realnode.Start(t, "loop_zombie.js")
	child := z.Children[0]
	waitFor(t, "the node child to become a zombie", 10*time.Second, func() bool {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		i := bytes.LastIndexByte(data, ')')
		return i > 0 && len(data) > i+2 && data[i+2] == 'Z'
	})
	_, stderr, code = run(t, "report", strconv.Itoa(child))
	if code != 3 || !strings.Contains(stderr, "has exited") || !strings.Contains(stderr, "zombie") {
		t.Errorf("zombie node %d: exit %d, stderr %q", child, code, stderr)
	}
}

// TestLoopPSSharesOneWindow: ps samples every Node.js process's main thread in one shared
// window, shows the verdict and the loop's findings, and --sample 0 turns it off.
func TestLoopPSSharesOneWindow(t *testing.T) {
	t.Parallel()
	busy := realnode.Start(t, "busy.js")
	var idle []*realnode.Proc
	for i := 0; i < 5; i++ {
		idle = append(idle, realnode.Start(t, "loop_server.js"))
	}
	start := time.Now()
	out, stderr, code := run(t, "ps", "--json", "--sample", "1s")
	took := time.Since(start)
	if code > 1 {
		t.Fatalf("ps exit %d: %s", code, stderr)
	}
	type row struct {
		PID   int      `json:"pid"`
		Loop  *string  `json:"loop"`
		Flags []string `json:"flags"`
	}
	var ps struct {
		Processes []row `json:"processes"`
	}
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatal(err)
	}
	rows := map[int]row{}
	for _, r := range ps.Processes {
		rows[r.PID] = r
	}
	if r := rows[busy.PID]; r.Loop == nil || *r.Loop != "blocked" || !strings.Contains(strings.Join(r.Flags, ","), "EVENT_LOOP_BLOCKED") {
		t.Errorf("busy loop in ps: %+v", r)
	}
	for _, p := range idle {
		if r := rows[p.PID]; r.Loop == nil || *r.Loop != "turning" || len(r.Flags) > 0 {
			t.Errorf("idle server in ps: loop %v flags %v", r.Loop, r.Flags)
		}
	}
	// Six processes sampled one after the other would take six seconds; shared, one
	// window and the scan. 4 s leaves room for a crowded machine and still fails a
	// sequential ps.
	if took > 4*time.Second {
		t.Errorf("ps --sample 1s over %d Node.js processes took %s: the windows are not shared", len(ps.Processes), took)
	}
	out, _, _ = run(t, "ps", "--json", "--sample", "0")
	ps.Processes = nil
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatal(err)
	}
	for _, r := range ps.Processes {
		if r.PID == busy.PID && (r.Loop != nil || len(r.Flags) > 0) {
			t.Errorf("ps --sample 0 still sampled: %+v", r)
		}
	}
}
