// Package e2e runs the real nodeinspect binary against real Node.js processes that create
// each pathology for real (testdata/node), and asserts findings, counts and exit codes.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/internal/realnode"
	"github.com/nodeinspect/nodeinspect/probes"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nodeinspect-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "nodeinspect")
	// The closers' and locks' state of every run goes to a directory of this test run,
	// removed with it, not to /run/nodeinspect of the machine.
	state := filepath.Join(dir, "state")
	if err := os.Setenv("NODEINSPECT_STATE_DIR", state); err != nil {
		panic(err)
	}
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build nodeinspect:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run executes the binary and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

type finding struct {
	Code     string         `json:"code"`
	Severity string         `json:"severity"`
	Summary  string         `json:"summary"`
	Evidence map[string]any `json:"evidence"`
	Related  []string       `json:"related"`
}

type snapshot struct {
	Schema  string `json:"schema"`
	Process struct {
		PID    int      `json:"pid"`
		Comm   string   `json:"comm"`
		IsNode bool     `json:"is_node"`
		Orphan bool     `json:"orphan"`
		PPID   int      `json:"ppid"`
		Cmd    []string `json:"cmdline"`
	} `json:"process"`
	Limits *struct {
		Soft *uint64 `json:"open_files_soft"`
	} `json:"limits"`
	FDs *struct {
		Open    int            `json:"open"`
		ByType  map[string]int `json:"by_type"`
		Deleted int            `json:"deleted"`
		List    []struct {
			FD      int    `json:"fd"`
			Type    string `json:"type"`
			Target  string `json:"target"`
			Deleted bool   `json:"deleted"`
			Size    *int64 `json:"size"`
		} `json:"list"`
	} `json:"fds"`
	Sockets *struct {
		ByState map[string]int `json:"by_state"`
	} `json:"sockets"`
	Memory *struct {
		RSS *uint64 `json:"rss_bytes"`
		PSS *uint64 `json:"pss_bytes"`
	} `json:"memory"`
	Children []struct {
		PID    int  `json:"pid"`
		Zombie bool `json:"zombie"`
	} `json:"children"`
	EventLoop *struct {
		Verdict string `json:"verdict"`
	} `json:"event_loop"`
	Findings []finding `json:"findings"`
	Warnings []string  `json:"warnings"`
}

func decode(t *testing.T, out string) snapshot {
	t.Helper()
	var s snapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%.500s", err, out)
	}
	if s.Schema != "nodeinspect/v1" {
		t.Fatalf("schema %q", s.Schema)
	}
	return s
}

func (s snapshot) find(code string) *finding {
	for i := range s.Findings {
		if s.Findings[i].Code == code {
			return &s.Findings[i]
		}
	}
	return nil
}

func (s snapshot) codes() string {
	var c []string
	for _, f := range s.Findings {
		c = append(c, f.Code+":"+f.Severity)
	}
	return strings.Join(c, ",")
}

func report(t *testing.T, pid int, extra ...string) (snapshot, string, int) {
	t.Helper()
	out, stderr, code := run(t, append([]string{"report", strconv.Itoa(pid), "--json"}, extra...)...)
	if code > 1 {
		t.Fatalf("report exit %d: %s", code, stderr)
	}
	return decode(t, out), stderr, code
}

func TestHealthyServerHasNoWarnings(t *testing.T) {
	p := realnode.Start(t, "healthy.js")
	s, stderr, code := report(t, p.PID, "--fail-on", "warning")
	if code != 0 {
		t.Errorf("exit %d, findings %s", code, s.codes())
	}
	for _, f := range s.Findings {
		if f.Severity != "info" {
			t.Errorf("healthy server has %s %s: %s", f.Severity, f.Code, f.Summary)
		}
	}
	if s.EventLoop == nil || s.EventLoop.Verdict != "turning" {
		t.Errorf("event loop %+v", s.EventLoop)
	}
	if s.Sockets.ByState["LISTEN"] != 1 || s.Sockets.ByState["ESTABLISHED"] < 2 {
		t.Errorf("sockets %v", s.Sockets.ByState)
	}
	if s.Memory == nil || s.Memory.RSS == nil || *s.Memory.RSS == 0 || s.Memory.PSS == nil {
		t.Errorf("memory %+v", s.Memory)
	}
	if stderr != "" {
		t.Errorf("stderr not empty: %q", stderr)
	}
}

func TestCloseWaitLeak(t *testing.T) {
	p := realnode.Start(t, "close_wait.js", realnode.Args("20"))
	s, _, code := report(t, p.PID, "--sample", "0")
	f := s.find("CLOSE_WAIT_LEAK")
	if f == nil || f.Severity != "warning" || f.Evidence["count"] != float64(20) {
		t.Fatalf("findings %s, %+v", s.codes(), f)
	}
	g := f.Evidence["groups"].([]any)[0].(map[string]any)
	if g["local_port"] != float64(p.Port) || g["peer"] != "127.0.0.1" || g["count"] != float64(20) {
		t.Errorf("group %v (server port %d)", g, p.Port)
	}
	if s.Sockets.ByState["CLOSE_WAIT"] != 20 || code != 0 {
		t.Errorf("by_state %v exit %d", s.Sockets.ByState, code)
	}
	_, _, code = report(t, p.PID, "--sample", "0", "--fail-on", "warning")
	if code != 1 {
		t.Errorf("--fail-on warning: exit %d, want 1", code)
	}
	// The sockets command puts CLOSE_WAIT first.
	out, _, _ := run(t, "sockets", strconv.Itoa(p.PID))
	if i, j := strings.Index(out, "CLOSE_WAIT"), strings.Index(out, "LISTEN"); i < 0 || j < 0 || i > j {
		t.Errorf("CLOSE_WAIT must come first:\n%s", out)
	}
}

func TestEMFILERisk(t *testing.T) {
	cases := []struct {
		open     string
		severity string
		code     int
	}{{"170", "warning", 0}, {"195", "critical", 1}}
	for _, c := range cases {
		t.Run(c.open, func(t *testing.T) {
			p := realnode.Start(t, "fd_leak.js", realnode.Args(c.open), realnode.NoFile(200))
			s, _, code := report(t, p.PID, "--sample", "0")
			f := s.find("EMFILE_RISK")
			if f == nil || f.Severity != c.severity || code != c.code {
				t.Fatalf("open %s of 200: findings %s exit %d", c.open, s.codes(), code)
			}
			if *s.Limits.Soft != 200 || f.Evidence["soft_limit"] != float64(200) || f.Evidence["open"] != float64(s.FDs.Open) {
				t.Errorf("evidence %v, fds %d", f.Evidence, s.FDs.Open)
			}
		})
	}
}

func TestDeletedFilesAndHostileNames(t *testing.T) {
	p := realnode.Start(t, "deleted.js", realnode.Args("5"))
	s, _, _ := report(t, p.PID, "--sample", "0")
	f := s.find("DELETED_FILES_HELD")
	if f == nil || f.Evidence["count"] != float64(1) || f.Evidence["bytes"] != float64(5<<20) {
		t.Fatalf("findings %s %+v", s.codes(), f)
	}
	fds := p.Ready["fds"].(map[string]any)
	dir := p.Ready["dir"].(string)
	byFD := map[int]int{}
	for i, e := range s.FDs.List {
		byFD[e.FD] = i
	}
	gone := s.FDs.List[byFD[int(fds["gone"].(float64))]]
	if !gone.Deleted || gone.Target != dir+"/rotated.log" || gone.Size == nil || *gone.Size != 5<<20 {
		t.Errorf("deleted file entry %+v", gone)
	}
	liar := s.FDs.List[byFD[int(fds["liar"].(float64))]]
	if liar.Deleted || liar.Target != dir+"/alive.log (deleted)" {
		t.Errorf("a live file named '(deleted)' was taken as deleted: %+v", liar)
	}
	hostile := s.FDs.List[byFD[int(fds["hostile"].(float64))]]
	if hostile.Target != dir+"/with space\nand newline.txt" || hostile.Type != "file" {
		t.Errorf("hostile name %+v", hostile)
	}
	raw := s.FDs.List[byFD[int(fds["raw"].(float64))]]
	if raw.Target != dir+`/bad\xff\xfe.bin` {
		t.Errorf("non-UTF-8 name not escaped as \\xNN: %q", raw.Target)
	}
	// Human output keeps one line per fd whatever the names.
	out, _, _ := run(t, "fds", strconv.Itoa(p.PID), "--format", "plain")
	if n := strings.Count(out, "\n"); n != s.FDs.Open+3 {
		t.Errorf("plain fds: %d lines for %d fds:\n%s", n, s.FDs.Open, out)
	}
}

func TestZombiesOfABlockedLoop(t *testing.T) {
	p := realnode.Start(t, "zombies.js", realnode.Args("3"))
	s, _, _ := report(t, p.PID)
	z := s.find("ZOMBIE_CHILDREN")
	if z == nil || z.Evidence["count"] != float64(3) {
		t.Fatalf("findings %s", s.codes())
	}
	want := fmt.Sprint(p.Children)
	if got := fmt.Sprint(z.Evidence["pids"]); got != want {
		t.Errorf("zombie pids %s, want %s", got, want)
	}
	l := s.find("EVENT_LOOP_BLOCKED")
	if l == nil || l.Evidence["main_thread"] != "futex" {
		t.Fatalf("loop finding %+v", l)
	}
	if len(z.Related) == 0 || z.Related[0] != "EVENT_LOOP_BLOCKED" {
		t.Errorf("zombies not explained by the blocked loop: %+v", z)
	}
	out, _, _ := run(t, "tree", strconv.Itoa(p.PID))
	if strings.Count(out, "ZOMBIE") != 3 {
		t.Errorf("tree must mark 3 zombies:\n%s", out)
	}
}

func TestBusyLoopIsBlocked(t *testing.T) {
	p := realnode.Start(t, "busy.js")
	waitIOQuiet(t, p.PID)
	out, stderr, code := run(t, "report", strconv.Itoa(p.PID), "--json")
	if code > 1 {
		t.Fatalf("report exit %d: %s", code, stderr)
	}
	s := decode(t, out)
	l := s.find("EVENT_LOOP_BLOCKED")
	if l == nil || l.Evidence["main_thread"] != "running" {
		// The whole event_loop section says why (its samples, counters, reason).
		var raw struct {
			EventLoop json.RawMessage `json:"event_loop"`
		}
		_ = json.Unmarshal([]byte(out), &raw)
		t.Fatalf("findings %s %+v; event_loop %s", s.codes(), l, raw.EventLoop)
	}
	// --sample 0 turns the sampling off: no verdict, no finding.
	s, _, _ = report(t, p.PID, "--sample", "0")
	if s.find("EVENT_LOOP_BLOCKED") != nil || s.EventLoop != nil {
		t.Errorf("--sample 0 still sampled: %s", s.codes())
	}
}

func TestOrphanAfterParentSIGKILL(t *testing.T) {
	p := realnode.Start(t, "orphan.js")
	child := p.Children[0]
	s, _, _ := report(t, child, "--sample", "0")
	if s.Process.Orphan || s.find("ORPHAN_PROCESS") != nil {
		t.Fatalf("child with a live parent is no orphan: %s", s.codes())
	}
	p.KillParentOnly()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if s, _, _ = report(t, child, "--sample", "0"); s.Process.PPID != p.PID {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	f := s.find("ORPHAN_PROCESS")
	if !s.Process.Orphan || f == nil || f.Evidence["pgid"] != float64(p.PID) {
		t.Fatalf("orphan %v, findings %s, evidence %+v", s.Process.Orphan, s.codes(), f)
	}
}

func TestListenBacklog(t *testing.T) {
	p := realnode.Start(t, "backlog.js", realnode.Args("5"))
	s, _, _ := report(t, p.PID)
	f := s.find("LISTEN_BACKLOG")
	if f == nil {
		t.Fatalf("findings %s", s.codes())
	}
	l := f.Evidence["listeners"].([]any)[0].(map[string]any)
	if l["queued"] != float64(5) || l["local"] != fmt.Sprintf("127.0.0.1:%d", p.Port) {
		t.Errorf("listener %v", l)
	}
	if !strings.Contains(f.Summary, "event loop is not turning") {
		t.Errorf("backlog not explained by the blocked loop: %q", f.Summary)
	}
}

// freePort is a port for a target's inspector that nothing listens on and no other test of
// this run was given (parallel tests would otherwise pick the same port).
func freePort(t *testing.T) int {
	portsMu.Lock()
	defer portsMu.Unlock()
	for port := 19229 + os.Getpid()%500; port < 21000; port++ {
		if portsGiven[port] {
			// Handed to another test already: its target may listen on it only later
			// (--inspect-port opens at the SIGUSR1), so ss would still call it free.
			continue
		}
		out, err := exec.Command("ss", "-Hltn", fmt.Sprintf("sport = :%d", port)).Output()
		if err != nil || len(bytes.TrimSpace(out)) == 0 {
			portsGiven[port] = true
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// portsGiven are the ports freePort handed out in this run, which it never hands out again.
var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

func TestInspectorOpenAndExposed(t *testing.T) {
	cases := []struct {
		host, code, severity string
	}{{"127.0.0.1", "INSPECTOR_OPEN", "info"}, {"0.0.0.0", "INSPECTOR_EXPOSED", "critical"}}
	for _, c := range cases {
		t.Run(c.host, func(t *testing.T) {
			port := freePort(t)
			p := realnode.Start(t, "idle.js", realnode.NodeFlags(fmt.Sprintf("--inspect=%s:%d", c.host, port)))
			s, _, code := report(t, p.PID, "--sample", "0")
			f := s.find(c.code)
			if f == nil || f.Severity != c.severity || f.Evidence["port"] != float64(port) {
				t.Fatalf("findings %s", s.codes())
			}
			if want := 0; c.severity == "critical" {
				want = 1
				if code != want {
					t.Errorf("exposed inspector: exit %d, want 1", code)
				}
			}
		})
	}
}

func TestProcessTitleCannotFoolTheParser(t *testing.T) {
	p := realnode.Start(t, "idle.js", realnode.Args("x) Z 1 (y"))
	s, _, _ := report(t, p.PID, "--sample", "0")
	if s.Process.Comm != "x) Z 1 (y" || !s.Process.IsNode {
		t.Errorf("process %+v", s.Process)
	}
}

func TestExitCodes(t *testing.T) {
	for _, args := range [][]string{{"report", "abc"}, {"report", "0"}, {"report", "-5"}, {"fds"}, {"report", "1", "--format", "xml"}} {
		_, stderr, code := run(t, args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d stderr %q", args, code, stderr)
		}
	}
	// A process that is gone.
	sleeper := exec.Command("sleep", "300")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	pid := sleeper.Process.Pid
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _, _ = sleeper.Process.Wait() })
	_, stderr, code := run(t, "report", strconv.Itoa(pid))
	if code != 5 || !strings.Contains(stderr, "--any") {
		t.Errorf("sleep: exit %d stderr %q", code, stderr)
	}
	out, _, code := run(t, "report", strconv.Itoa(pid), "--any", "--json", "--sample", "0")
	if code != 0 || decode(t, out).Process.IsNode {
		t.Errorf("--any: exit %d", code)
	}
	_ = sleeper.Process.Kill()
	_, _ = sleeper.Process.Wait()
	_, stderr, code = run(t, "report", strconv.Itoa(pid))
	if code != 3 || strings.Count(stderr, "\n") != 1 {
		t.Errorf("vanished: exit %d stderr %q", code, stderr)
	}
}

func TestPSListsNodeProcesses(t *testing.T) {
	healthy := realnode.Start(t, "healthy.js")
	leaky := realnode.Start(t, "close_wait.js", realnode.Args("15"))
	// --fail-on never: ps now flags critical findings (an exposed inspector) of any Node.js
	// process on the host, and other tests' processes may have one.
	out, stderr, code := run(t, "ps", "--json", "--fail-on", "never")
	if code != 0 {
		t.Fatalf("ps exit %d: %s", code, stderr)
	}
	var res struct {
		Processes []struct {
			PID       int      `json:"pid"`
			CloseWait *int     `json:"close_wait"`
			Flags     []string `json:"flags"`
		} `json:"processes"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	pos := map[int]int{}
	for i, r := range res.Processes {
		pos[r.PID] = i
		if r.PID == leaky.PID && (r.CloseWait == nil || *r.CloseWait != 15 || strings.Join(r.Flags, ",") != "CLOSE_WAIT_LEAK") {
			t.Errorf("leaky row %+v", r)
		}
	}
	hi, ok1 := pos[healthy.PID]
	li, ok2 := pos[leaky.PID]
	if !ok1 || !ok2 || li > hi {
		t.Errorf("ps must list both, the leaky one first: %v", pos)
	}
}

func TestFlagsAfterThePid(t *testing.T) {
	p := realnode.Start(t, "idle.js")
	out, _, code := run(t, "fds", strconv.Itoa(p.PID), "--json")
	if code != 0 || decode(t, out).FDs == nil {
		t.Fatalf("fds <pid> --json: exit %d", code)
	}
	out, _, code = run(t, strconv.Itoa(p.PID), "--json", "--sample", "0")
	if code != 0 || decode(t, out).Process.PID != p.PID {
		t.Fatalf("bare pid: exit %d", code)
	}
}

func TestUnprivilegedUserGetsWhatCanBeRead(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the binary as another user")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal("setpriv not found (util-linux)")
	}
	// Near its fd limit: the count comes from the size of /proc/<pid>/fd, which nobody may
	// stat, so EMFILE_RISK is judged without the table.
	p := realnode.Start(t, "fd_leak.js", realnode.Args("170"), realnode.NoFile(200))
	want := fdCount(t, p.PID)
	bin := binaryForNobody(t)
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "report", strconv.Itoa(p.PID), "--json", "--sample", "100ms")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code > 1 {
		t.Fatalf("as nobody: exit %d: %s", code, errb.String())
	}
	s := decode(t, out.String())
	if s.Memory == nil || s.Memory.RSS == nil || s.Memory.PSS != nil || s.Limits == nil {
		t.Errorf("as nobody: memory %+v", s.Memory)
	}
	if n, ok, _ := probes.NewFS("/proc").CountFDs(p.PID); ok {
		if s.FDs == nil || s.FDs.Open != want || s.FDs.List != nil || n != want {
			t.Errorf("as nobody: fds %+v, want only the count %d", s.FDs, want)
		}
		if f := s.find("EMFILE_RISK"); f == nil || f.Evidence["open"] != float64(want) {
			t.Errorf("as nobody: no EMFILE_RISK from the fd count: %s", s.codes())
		}
	} else if s.FDs != nil {
		t.Errorf("as nobody on a kernel without fd counts: fds %+v", s.FDs)
	}
	if !strings.Contains(errb.String(), "fd table unreadable") || !strings.Contains(errb.String(), "sudo") {
		t.Errorf("stderr must say what could not be read and what to do: %q", errb.String())
	}
	if !s.Process.IsNode {
		t.Errorf("node not recognised from the command line without exe")
	}
}

// TestNothingReadableIsExit4: when even stat is denied (as under a restrictive procfs), the
// run ends with exit 4 and says what to run instead. Built on a copy of a fake tree whose
// files only root may read, read as nobody.
func TestNothingReadableIsExit4(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the binary as another user")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal("setpriv not found (util-linux)")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "proc")
	if out, err := exec.Command("cp", "-a", filepath.Join("..", "testdata", "proc", "healthy"), root).CombinedOutput(); err != nil {
		t.Fatalf("copy fixture: %v %s", err, out)
	}
	if err := os.Chmod(filepath.Join(root, "4242", "stat"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "nodeinspect")
	writeExecutable(t, bin, binary)
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "report", "4242", "--proc", root)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 4 {
		t.Fatalf("want exit 4, got %v: %s", err, errb.String())
	}
	if strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), "sudo") {
		t.Errorf("stderr must be one line saying what to run: %q", errb.String())
	}
}

// TestSocketLookupAndDumpAgree: the fd table read with the TCP sockets looked up one by
// one (pidfd_getfd + sock_diag by id, used when the namespace is crowded) equals the one
// read from the namespace's dump, on the same real process.
func TestSocketLookupAndDumpAgree(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("pidfd_getfd of another process needs ptrace access")
	}
	p := realnode.Start(t, "many_sockets.js", realnode.Args("400", "20"))
	read := func(source string) string {
		cmd := exec.Command(binary, "fds", strconv.Itoa(p.PID), "--json")
		cmd.Env = append(os.Environ(), "NODEINSPECT_SOCKET_SOURCE="+source)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		var doc struct {
			FDs struct {
				List []map[string]any `json:"list"`
			} `json:"fds"`
			Sockets map[string]any `json:"sockets"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(doc)
		return string(b)
	}
	var dump, lookup string
	for attempt := 0; attempt < 20; attempt++ {
		dump, lookup = read("dump"), read("lookup")
		if dump == lookup {
			break
		}
		time.Sleep(100 * time.Millisecond) // queues settle a moment after loopback writes
	}
	if dump != lookup {
		t.Fatalf("dump and lookup differ:\n%.1500s\n%.1500s", dump, lookup)
	}
	if !strings.Contains(lookup, `"CLOSE_WAIT":20`) {
		t.Fatalf("want 20 CLOSE_WAIT sockets: %.600s", lookup)
	}
}

// binaryForNobody copies the binary where user nobody may run it (the build directory is
// root's).
func binaryForNobody(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "nodeinspect")
	writeExecutable(t, bin, binary)
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// within reports whether got is within frac (a fraction) of want.
func within(got, want uint64, frac float64) bool {
	return math.Abs(float64(got)-float64(want)) <= frac*float64(want)
}

// waitIOQuiet waits until the main thread of pid has made no read or write system call
// (task io syscr+syscw) for 200 ms: a script that spins after its ready line has then
// finished starting up, and a window sampled from now on sees only the spin.
func waitIOQuiet(t *testing.T, pid int) {
	t.Helper()
	path := fmt.Sprintf("/proc/%d/task/%d/io", pid, pid)
	read := func() string {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		var calls []string
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "syscr:") || strings.HasPrefix(l, "syscw:") {
				calls = append(calls, l)
			}
		}
		return strings.Join(calls, " ")
	}
	deadline := time.Now().Add(10 * time.Second)
	last, since := read(), time.Now()
	for time.Since(since) < 200*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("process %d kept making read/write calls for 10 s (%s)", pid, last)
		}
		time.Sleep(10 * time.Millisecond)
		if c := read(); c != last {
			last, since = c, time.Now()
		}
	}
}
