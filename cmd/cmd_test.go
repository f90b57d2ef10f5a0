package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
)

// fixedNow is the clock of every in-memory run: one hour after the fake boot time.
var fixedNow = time.Unix(fakeproc.BootTime+3600, 0).UTC()

// runCLI runs the real command line in memory against a proc root.
func runCLI(t *testing.T, proc string, tty bool, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), append([]string{"nodeinspect"}, args...), Deps{
		Proc: proc, Out: &out, Err: &errb, Now: func() time.Time { return fixedNow }, IsTTY: tty,
		Getenv: func(string) string { return "" }, UserName: func(uid int) string { return "app" },
	})
	return out.String(), errb.String(), code
}

// scenarioRoot returns the committed fake tree of the named scenario (testdata/proc,
// kept equal to fakeproc.Scenarios by internal/fakeproc's tests).
func scenarioRoot(t *testing.T, name string) (string, int) {
	t.Helper()
	for _, s := range fakeproc.Scenarios {
		if s.Name == name {
			return filepath.Join("..", "testdata", "proc", name), s.Target
		}
	}
	t.Fatalf("no scenario %q", name)
	return "", 0
}

type jsonFinding struct {
	Code     string            `json:"code"`
	Severity string            `json:"severity"`
	Evidence evidence.Evidence `json:"evidence"`
}

type jsonSnapshot struct {
	Schema  string `json:"schema"`
	Process *struct {
		PID    int    `json:"pid"`
		Comm   string `json:"comm"`
		IsNode bool   `json:"is_node"`
		Orphan bool   `json:"orphan"`
		State  string `json:"state"`
	} `json:"process"`
	FDs *struct {
		Open   int            `json:"open"`
		ByType map[string]int `json:"by_type"`
		List   []struct {
			FD     int    `json:"fd"`
			Type   string `json:"type"`
			Target string `json:"target"`
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
	Findings []jsonFinding `json:"findings"`
	Warnings []string      `json:"warnings"`
}

func decode(t *testing.T, out string) jsonSnapshot {
	t.Helper()
	var s jsonSnapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	if s.Schema != "nodeinspect/v1" {
		t.Fatalf("schema = %q", s.Schema)
	}
	return s
}

func findingCodes(s jsonSnapshot) string {
	var c []string
	for _, f := range s.Findings {
		c = append(c, f.Code+":"+f.Severity)
	}
	return strings.Join(c, ",")
}

func TestScenarios(t *testing.T) {
	cases := []struct {
		scenario string
		args     []string
		want     string
		code     int
	}{
		{"healthy", []string{"report", "--json", "--fail-on", "warning"}, "", 0},
		{"fd-leak", []string{"report", "--json"}, "EMFILE_RISK:critical", 1},
		{"fd-leak", []string{"report", "--json", "--fail-on", "never"}, "EMFILE_RISK:critical", 0},
		{"fd-leak", []string{"report", "--json", "--emfile-critical", "99"}, "EMFILE_RISK:warning", 0},
		{"close-wait", []string{"report", "--json"}, "CLOSE_WAIT_LEAK:critical", 1},
		{"close-wait", []string{"report", "--json", "--close-wait-critical", "1000"}, "CLOSE_WAIT_LEAK:warning", 0},
		{"zombies", []string{"report", "--json", "--sample", "100ms"}, "EVENT_LOOP_BLOCKED:warning,ZOMBIE_CHILDREN:warning", 0},
		{"zombies", []string{"report", "--json", "--sample", "100ms", "--fail-on", "warning"}, "EVENT_LOOP_BLOCKED:warning,ZOMBIE_CHILDREN:warning", 1},
		{"orphan", []string{"report", "--json"}, "ORPHAN_PROCESS:warning,ORPHAN_PROCESS:warning", 0},
		{"blocked-futex", []string{"report", "--json", "--sample", "100ms"}, "EVENT_LOOP_BLOCKED:warning", 0},
		{"blocked-futex", []string{"report", "--json", "--sample", "0"}, "", 0},
		{"hostile", []string{"report", "--json"}, "", 0},
		{"deleted", []string{"report", "--json", "--fail-on", "warning"}, "DELETED_FILES_HELD:warning", 1},
	}
	for _, c := range cases {
		t.Run(c.scenario+" "+strings.Join(c.args, " "), func(t *testing.T) {
			root, pid := scenarioRoot(t, c.scenario)
			args := append([]string{c.args[0], itoa(pid)}, c.args[1:]...)
			out, stderr, code := runCLI(t, root, false, args...)
			s := decode(t, out)
			if got := findingCodes(s); got != c.want {
				t.Errorf("findings = %q, want %q\nstderr: %s", got, c.want, stderr)
			}
			if code != c.code {
				t.Errorf("exit = %d, want %d; stderr: %s", code, c.code, stderr)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestScenarioDetails(t *testing.T) {
	t.Run("close-wait counts only the target's sockets", func(t *testing.T) {
		root, pid := scenarioRoot(t, "close-wait")
		out, _, _ := runCLI(t, root, false, "sockets", itoa(pid), "--json")
		s := decode(t, out)
		if s.Sockets.ByState["CLOSE_WAIT"] != 120 || s.Sockets.ByState["LISTEN"] != 1 {
			t.Errorf("by_state = %v", s.Sockets.ByState)
		}
		if s.FDs.ByType["tcp"] != 121 {
			t.Errorf("by_type = %v", s.FDs.ByType)
		}
		f := s.Findings[0]
		if n, _ := f.Evidence["count"].Int(); n != 120 {
			t.Errorf("count = %v", f.Evidence["count"])
		}
		groups, _ := f.Evidence["groups"].List()
		g, _ := groups[0].Object()
		if g["peer"] != evidence.Text("::ffff:10.1.2.3") || g["local_port"] != evidence.Int(3000) || g["count"] != evidence.Int(90) {
			t.Errorf("top group = %v", g)
		}
	})
	t.Run("healthy does not take other processes' sockets", func(t *testing.T) {
		root, pid := scenarioRoot(t, "healthy")
		out, stderr, code := runCLI(t, root, false, "fds", itoa(pid), "--json")
		s := decode(t, out)
		if code != 0 || s.Sockets.ByState["CLOSE_WAIT"] != 0 || s.Sockets.ByState["ESTABLISHED"] != 2 {
			t.Errorf("code %d by_state %v stderr %s", code, s.Sockets.ByState, stderr)
		}
		if s.FDs.Open != 13 || s.FDs.ByType["tcp"] != 3 || s.FDs.ByType["unix"] != 1 || s.FDs.ByType["epoll"] != 1 || s.FDs.ByType["eventfd"] != 2 {
			t.Errorf("fds open %d by_type %v", s.FDs.Open, s.FDs.ByType)
		}
		if s.Memory != nil || s.Children != nil {
			t.Errorf("fds must not collect memory or the tree")
		}
	})
	t.Run("zombies are children with state Z", func(t *testing.T) {
		root, pid := scenarioRoot(t, "zombies")
		out, _, _ := runCLI(t, root, false, "tree", itoa(pid), "--json")
		s := decode(t, out)
		z := 0
		for _, c := range s.Children {
			if c.Zombie {
				z++
			}
		}
		if len(s.Children) != 4 || z != 3 {
			t.Errorf("children %+v", s.Children)
		}
	})
	t.Run("deleted files, memfd is memory not disk", func(t *testing.T) {
		root, pid := scenarioRoot(t, "deleted")
		out, _, _ := runCLI(t, root, false, "report", itoa(pid), "--json", "--sample", "0")
		s := decode(t, out)
		if f := s.Findings[0]; f.Evidence["count"] != evidence.Int(2) {
			t.Errorf("deleted count %v, want 2 (the memfd is not a file on disk)", f.Evidence["count"])
		}
	})
	t.Run("hostile comm parses", func(t *testing.T) {
		root, pid := scenarioRoot(t, "hostile")
		out, _, _ := runCLI(t, root, false, "report", itoa(pid), "--json")
		s := decode(t, out)
		if s.Process.Comm != "x) Z 1 (y" || s.Process.State != "S" || !s.Process.IsNode {
			t.Errorf("process = %+v", s.Process)
		}
		found := false
		for _, fd := range s.FDs.List {
			if fd.FD == 10 && fd.Target == "/tmp/with space/and\nnewline.txt" {
				found = true
			}
		}
		if !found {
			t.Errorf("hostile file name lost: %+v", s.FDs.List)
		}
	})
}

func TestUsageAndProcessErrors(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"report", "abc"}, ExitUsage, "not a positive integer"},
		{[]string{"report", "0"}, ExitUsage, "not a positive integer"},
		{[]string{"report", "-5"}, ExitUsage, "not a positive integer"},
		{[]string{"report", "99999999999"}, ExitUsage, "not a positive integer"},
		{[]string{"report"}, ExitUsage, "needs a pid"},
		{[]string{"report", "1", "2"}, ExitUsage, "one pid"},
		{[]string{"report", itoa(pid), "--bogus"}, ExitUsage, "bogus"},
		{[]string{"report", itoa(pid), "--format", "xml"}, ExitUsage, "--format"},
		{[]string{"report", itoa(pid), "--fail-on", "sometimes"}, ExitUsage, "--fail-on"},
		{[]string{"report", itoa(pid), "--json", "--format", "table"}, ExitUsage, "contradict"},
		{[]string{"report", itoa(pid), "--sample", "-1s"}, ExitUsage, "--sample"},
		{[]string{"frobnicate"}, ExitUsage, "unknown command"},
		{[]string{}, ExitUsage, "give a pid"},
		{[]string{"report", "31337"}, ExitNoProcess, "no such process"},
		{[]string{"31337"}, ExitNoProcess, "no such process"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, stderr, code := runCLI(t, root, false, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, stderr)
			}
			if out != "" {
				t.Errorf("stdout must be empty on error, got %q", out)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(stderr, c.msg) {
				t.Errorf("stderr must be one line containing %q, got %q", c.msg, stderr)
			}
		})
	}
}

func TestNotNode(t *testing.T) {
	root, _ := scenarioRoot(t, "orphan")
	_, stderr, code := runCLI(t, root, false, "report", "1", "--json")
	if code != ExitNotNode || !strings.Contains(stderr, "--any") {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
	out, _, code := runCLI(t, root, false, "report", "1", "--json", "--any", "--sample", "0")
	if code != 0 {
		t.Fatalf("--any exit %d", code)
	}
	if s := decode(t, out); s.Process.IsNode {
		t.Errorf("init is not node")
	}
}

func TestBarePidAndFlagsAnywhere(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	for _, args := range [][]string{
		{itoa(pid), "--json", "--sample", "0"},
		{"--json", itoa(pid), "--sample", "0"},
		{"report", "--json", itoa(pid), "--sample=0"},
	} {
		out, stderr, code := runCLI(t, root, false, args...)
		if code != 0 || stderr != "" {
			t.Errorf("%v: exit %d stderr %q", args, code, stderr)
			continue
		}
		if s := decode(t, out); s.Process.PID != pid {
			t.Errorf("%v: pid %d", args, s.Process.PID)
		}
	}
}

func TestHumanOutputTTYAndPipe(t *testing.T) {
	root, pid := scenarioRoot(t, "close-wait")
	for _, tty := range []bool{true, false} {
		for _, cmd := range []string{"report", "fds", "sockets", "mem", "tree"} {
			out, stderr, code := runCLI(t, root, tty, cmd, itoa(pid), "--sample", "0")
			if out == "" || (code != 0 && code != 1) {
				t.Errorf("%s tty=%v: exit %d, stdout %d bytes, stderr %q", cmd, tty, code, len(out), stderr)
			}
			if !tty && strings.Contains(out, "\x1b[") {
				t.Errorf("%s piped: colour codes in output", cmd)
			}
		}
	}
}

func TestPS(t *testing.T) {
	root, _ := scenarioRoot(t, "zombies")
	out, stderr, code := runCLI(t, root, false, "ps", "--json")
	if code != 0 {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
	var res struct {
		Schema    string `json:"schema"`
		Processes []struct {
			PID     int      `json:"pid"`
			Zombies int      `json:"zombies"`
			Flags   []string `json:"flags"`
			FDsOpen *int     `json:"fds_open"`
			Loop    *string  `json:"loop"`
		} `json:"processes"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Processes) != 2 || res.Processes[0].PID != 4500 || res.Processes[0].Zombies != 3 {
		t.Fatalf("processes = %+v", res.Processes)
	}
	// The fake main thread is on a CPU and its counters never move: the loop is blocked,
	// which ps shows too.
	if strings.Join(res.Processes[0].Flags, ",") != "EVENT_LOOP_BLOCKED,ZOMBIE_CHILDREN" || res.Processes[0].Loop == nil || *res.Processes[0].Loop != "blocked" {
		t.Errorf("flags = %v", res.Processes[0].Flags)
	}
	out, _, _ = runCLI(t, root, false, "ps", "--json", "--sample", "0")
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Processes[0].Flags, ",") != "ZOMBIE_CHILDREN" || res.Processes[0].Loop != nil {
		t.Errorf("--sample 0: flags = %v, loop %v", res.Processes[0].Flags, res.Processes[0].Loop)
	}
	_, _, code = runCLI(t, root, false, "ps", "--json", "--fail-on", "warning")
	if code != ExitFindings {
		t.Errorf("ps --fail-on warning exit %d", code)
	}
}

// --attach never signals through a proc tree that is not this system's own: its pids may
// name other processes here.
func TestAttachRefusedOnAnotherProcTree(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	out, stderr, code := runCLI(t, root, false, "report", itoa(pid), "--attach", "--json")
	if code != 2 || out != "" || !strings.Contains(stderr, "not this system's /proc") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

// TestDepsDefaults: what a caller leaves unset is filled once, in Run: the clock, an empty
// environment and /proc.
func TestDepsDefaults(t *testing.T) {
	d := Deps{}.withDefaults()
	if d.Proc != "/proc" || d.Now == nil || d.Getenv == nil || d.Getenv("NO_COLOR") != "" {
		t.Fatalf("defaults: %+v", d)
	}
	fixed := Deps{Proc: "/x", Now: func() time.Time { return fixedNow }, Getenv: func(string) string { return "1" }}.withDefaults()
	if fixed.Proc != "/x" || !fixed.Now().Equal(fixedNow) || fixed.Getenv("K") != "1" {
		t.Fatalf("given values replaced: %+v", fixed)
	}
}
