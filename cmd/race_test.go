package cmd

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
)

// scenarioCopy builds a private copy of a scenario tree, for tests that change it.
func scenarioCopy(t *testing.T, name string) (string, int) {
	t.Helper()
	for _, s := range fakeproc.Scenarios {
		if s.Name == name {
			root, err := fakeproc.Build(t.TempDir(), s)
			if err != nil {
				t.Fatal(err)
			}
			return root, s.Target
		}
	}
	t.Fatalf("no scenario %q", name)
	return "", 0
}

// TestPidReusedWhileReading: the process exits and a new one takes its pid during the
// sample window; the run must fail with exit 3, never attribute the new data to the old.
func TestPidReusedWhileReading(t *testing.T) {
	root, pid := scenarioCopy(t, "healthy")
	statPath := filepath.Join(root, strconv.Itoa(pid), "stat")
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(50 * time.Millisecond)
		p := fakeproc.Proc{PID: pid, PPID: 1, PGID: pid, SID: pid, Comm: "node", State: "S", StartTicks: 999999}
		_ = os.WriteFile(statPath, []byte(fakeproc.StatLine(p)), 0o644)
	}()
	out, stderr, code := runCLI(t, root, false, "report", strconv.Itoa(pid), "--json", "--sample", "300ms")
	<-done
	if code != ExitNoProcess || out != "" || !strings.Contains(stderr, "reused") {
		t.Errorf("exit %d stdout %d bytes stderr %q", code, len(out), stderr)
	}
}

// TestProcessExitsWhileReading: the process vanishes during the sample window.
func TestProcessExitsWhileReading(t *testing.T) {
	root, pid := scenarioCopy(t, "healthy")
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(50 * time.Millisecond)
		// The kernel removes /proc/<pid> at once: rename, as atomic as that.
		dir := filepath.Join(root, strconv.Itoa(pid))
		_ = os.Rename(dir, dir+".gone")
	}()
	_, stderr, code := runCLI(t, root, false, "report", strconv.Itoa(pid), "--json", "--sample", "300ms")
	<-done
	if code != ExitNoProcess || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "exited") {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}

// TestHundredThousandFDs reads a fake fd table of 100k entries, with 100k sockets of other
// processes in the namespace.
func TestHundredThousandFDs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100k-entry fake tree")
	}
	tree, err := fakeproc.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := fakeproc.Proc{PID: 777, PPID: 1, PGID: 777, SID: 777, Comm: "node", State: "S", StartTicks: 1, Exe: "/usr/bin/node",
		Cmdline: []string{"node", "big.js"}, SoftNofile: 1 << 20, HardNofile: 1 << 20, RSSKB: 1000}
	const n = 100000
	for i := 0; i < n; i++ {
		ino := uint64(1000000 + i)
		p.FDs = append(p.FDs, fakeproc.FD{Num: 10 + i, Target: "socket:[" + strconv.FormatUint(ino, 10) + "]"})
		state := "01"
		if i%10 == 0 {
			state = "08"
		}
		p.Sockets = append(p.Sockets, fakeproc.Socket{Proto: "tcp", State: state, Local: "127.0.0.1:8080", Remote: "127.0.0.2:40000", Inode: ino})
		// A socket of another process in the same namespace.
		p.Sockets = append(p.Sockets, fakeproc.Socket{Proto: "tcp", State: "08", Local: "10.0.0.1:443", Remote: "10.0.0.2:1", Inode: 5000000 + uint64(i)})
	}
	if err := tree.Add(p); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, tree.Root, false, "sockets", "777", "--json")
	s := decode(t, out)
	if s.FDs.Open != n || s.Sockets.ByState["CLOSE_WAIT"] != n/10 || s.Sockets.ByState["ESTABLISHED"] != n-n/10 {
		t.Errorf("open %d by_state %v stderr %q", s.FDs.Open, s.Sockets.ByState, stderr)
	}
	// 10k CLOSE_WAIT sockets are critical: the default --fail-on critical exits 1.
	if code != ExitFindings || findingCodes(s) != "CLOSE_WAIT_LEAK:critical" {
		t.Errorf("exit %d findings %s", code, findingCodes(s))
	}
}
