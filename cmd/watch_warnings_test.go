package cmd

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
)

// TestWatchWarnsAfterTheFirstFrame: a watch whose samples cannot read a socket table
// prints close_wait as null (not 0) in its JSON lines and "n/a" in plain lines, and the
// warning saying so reaches stderr once, though it arrives after the first frame.
func TestWatchWarnsAfterTheFirstFrame(t *testing.T) {
	root, pid := closeWaitCopy(t)
	table := filepath.Join(root, itoa(pid), "net", "tcp6")
	unreadable(t, table)
	out, stderr, code := runCLI(t, root, false, "watch", itoa(pid), "--interval", "100ms", "--duration", "350ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 {
		t.Fatalf("want samples and a summary:\n%s", out)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.Contains(l, `"close_wait":null`) {
			t.Fatalf("close_wait not null in %s", l)
		}
	}
	if n := strings.Count(stderr, "socket table not read"); n != 1 || !strings.Contains(stderr, "tcp6") {
		t.Fatalf("want the warning once on stderr, got:\n%s", stderr)
	}
	out, _, _ = runCLI(t, root, false, "watch", itoa(pid), "--format", "plain", "--interval", "100ms", "--duration", "250ms")
	if !strings.Contains(out, "close_wait n/a") {
		t.Fatalf("plain line does not say n/a:\n%s", out)
	}
}

// TestWatchShowsTheFirstSnapshotsWarnings: without --attach too, what the first snapshot
// could not read reaches stderr (once), as report says it for the same tree.
func TestWatchShowsTheFirstSnapshotsWarnings(t *testing.T) {
	root, pid := closeWaitCopy(t)
	cmdline := filepath.Join(root, itoa(pid), "cmdline")
	unreadable(t, cmdline)
	_, reportErr, _ := runCLI(t, root, false, "report", itoa(pid), "--sample", "0", "--json", "--any")
	if !strings.Contains(reportErr, "command line unreadable") {
		t.Fatalf("report does not warn about the command line: %q", reportErr)
	}
	_, stderr, code := runCLI(t, root, false, "watch", itoa(pid), "--any", "--interval", "100ms", "--duration", "250ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(stderr, "command line unreadable"); n != 1 {
		t.Fatalf("want the first snapshot's warning once on stderr, got:\n%s", stderr)
	}
}

// TestUnreadableSocketTableIsNotCalledOtherFamilies: sockets left unmatched because a
// table could not be read are said to be unknown, not "raw, packet or other families".
func TestUnreadableSocketTableIsNotCalledOtherFamilies(t *testing.T) {
	root, pid := closeWaitCopy(t)
	table := filepath.Join(root, itoa(pid), "net", "tcp6")
	unreadable(t, table)
	_, stderr, _ := runCLI(t, root, false, "report", itoa(pid), "--json", "--sample", "0")
	if !strings.Contains(stderr, "121 socket fds could not be matched to a socket table, since a table could not be read") || strings.Contains(stderr, "raw, packet") {
		t.Fatalf("stderr %q", stderr)
	}
}

// TestPSCloseWaitUnknownWhenATableIsUnreadable: ps says close_wait null, not 0, for a
// process whose socket table could not be read, and the exporter's scan gives no
// nodeinspect_tcp_sockets series for it rather than zeros.
func TestPSCloseWaitUnknownWhenATableIsUnreadable(t *testing.T) {
	root, pid := closeWaitCopy(t)
	out, _, _ := runCLI(t, root, false, "ps", "--json", "--sample", "0")
	if !strings.Contains(out, `"close_wait":120`) {
		t.Fatalf("readable tables: %s", out)
	}
	table := filepath.Join(root, itoa(pid), "net", "tcp6")
	unreadable(t, table)
	out, stderr, _ := runCLI(t, root, false, "ps", "--json", "--sample", "0")
	if !strings.Contains(out, `"close_wait":null`) || !strings.Contains(stderr, "socket table") {
		t.Fatalf("unreadable table: %s\nstderr %s", out, stderr)
	}
}

// closeWaitCopy is fakeproc.Copy of the close-wait scenario in a temporary directory.
func closeWaitCopy(t *testing.T) (string, int) {
	t.Helper()
	root, pid, err := fakeproc.Copy(t.TempDir(), "close-wait")
	if err != nil {
		t.Fatal(err)
	}
	return root, pid
}

// unreadable is fakeproc.Unreadable, failing the test when it cannot be done.
func unreadable(t *testing.T, path string) {
	t.Helper()
	if err := fakeproc.Unreadable(path); err != nil {
		t.Fatal(err)
	}
}
