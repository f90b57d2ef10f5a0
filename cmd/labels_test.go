package cmd

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
)

var (
	labelRe   = regexp.MustCompile(`(?:^|[\s{(])([a-z][a-z_]*)=`)
	pidRe     = regexp.MustCompile(`\bpid \d+\b`)
	repeatRe  = regexp.MustCompile(`\b([a-z]{2,}) ([a-z]{2,})\b`)
	escapeRe  = regexp.MustCompile("\x1b\\[[0-9;]*m")
	tableRune = "│|"
)

// labelTwice returns a label shown twice in one line of out: "used=… used=…" (within one
// "; "-separated item), "pid 12 (pid 12)", "fd fd". Table rows are left out: their
// columns hold values, not labels.
func labelTwice(out string) string {
	for _, line := range strings.Split(escapeRe.ReplaceAllString(out, ""), "\n") {
		for _, item := range strings.Split(line, "; ") {
			seen := map[string]bool{}
			for _, m := range labelRe.FindAllStringSubmatch(item, -1) {
				if seen[m[1]] {
					return line
				}
				seen[m[1]] = true
			}
		}
		seen := map[string]bool{}
		for _, p := range pidRe.FindAllString(line, -1) {
			if seen[p] {
				return line
			}
			seen[p] = true
		}
		if !strings.ContainsAny(line, tableRune) {
			for _, m := range repeatRe.FindAllStringSubmatch(line, -1) {
				if m[1] == m[2] {
					return line
				}
			}
		}
	}
	return ""
}

// Every command's human output on every fake scenario (and analyze of every report fixture)
// shows each label once per line.
func TestNoLabelTwiceInALine(t *testing.T) {
	dir := t.TempDir()
	for _, s := range fakeproc.Scenarios {
		root, pid := scenarioRoot(t, s.Name)
		snap := filepath.Join(dir, s.Name+".json")
		runCLI(t, root, false, "snapshot", itoa(pid), "-o", snap, "--sample", "0", "--any")
		for _, format := range []string{"plain", "table", "markdown"} {
			for _, c := range []string{"report", "fds", "sockets", "mem", "tree"} {
				out, _, _ := runCLI(t, root, format == "table", c, itoa(pid), "--format", format, "--sample", "100ms", "--any")
				if l := labelTwice(out); l != "" {
					t.Errorf("%s %s --format %s: a label twice in %q", s.Name, c, format, l)
				}
			}
			out, _, _ := runCLI(t, root, false, "ps", "--format", format)
			if l := labelTwice(out); l != "" {
				t.Errorf("%s ps --format %s: a label twice in %q", s.Name, format, l)
			}
		}
	}
	reports, _ := filepath.Glob(reportFixture("*.json"))
	for _, format := range []string{"plain", "table", "markdown"} {
		out, _, _ := runCLI(t, "/nonexistent", false, append([]string{"analyze", "--format", format}, reports...)...)
		if l := labelTwice(out); l != "" {
			t.Errorf("analyze --format %s: a label twice in %q", format, l)
		}
		out, _, _ = runCLI(t, "/nonexistent", false, "diff", filepath.Join(dir, "healthy.json"), filepath.Join(dir, "fd-leak.json"), "--format", format)
		if l := labelTwice(out); l != "" {
			t.Errorf("diff --format %s: a label twice in %q", format, l)
		}
	}
	if labelTwice("event=x  used=32.9 MiB  used=45.7%") == "" || labelTwice("pid 12 (pid 12)") == "" || labelTwice("3 fd fd open") == "" {
		t.Fatal("labelTwice misses what it is for")
	}
}
