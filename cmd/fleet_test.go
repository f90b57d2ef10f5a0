package cmd

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestServeAndTopUsage: bad flags and arguments of serve and top are one line and exit 2,
// before anything is listened on or drawn.
func TestServeAndTopUsage(t *testing.T) {
	root, _ := scenarioRoot(t, "close-wait")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "extra"}, "serve takes no arguments"},
		{[]string{"serve", "--scrape-timeout", "1ms"}, "--scrape-timeout 1ms is out of range"},
		{[]string{"serve", "--sample", "20s", "--scrape-timeout", "10s"}, "does not fit in --scrape-timeout"},
		{[]string{"serve", "--json"}, "json"},
		{[]string{"serve", "--fail-on", "warning"}, "fail-on"},
		{[]string{"serve", "--listen", "not-an-address"}, "--listen not-an-address"},
		{[]string{"serve", "--proc", "/nonexistent"}, "--proc /nonexistent"},
		{[]string{"top", "--interval", "10ms"}, "--interval 10ms is out of range"},
		{[]string{"top", "--count", "0"}, "--count must be at least 1"},
		{[]string{"top", "1234"}, "top takes no arguments"},
	}
	for _, c := range cases {
		out, errOut, code := runCLI(t, root, false, c.args...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != ExitUsage || out != "" || len(lines) != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", c.args, code, out, errOut, c.want)
		}
	}
}

// TestTopPipedOnAFakeTree: without a terminal, top prints ps documents, one per line.
func TestTopPipedOnAFakeTree(t *testing.T) {
	root, pid := scenarioRoot(t, "close-wait")
	out, errOut, code := runCLI(t, root, false, "top", "--count", "2", "--interval", "500ms", "--sample", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines for 2 refreshes:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var doc struct {
			Schema    string `json:"schema"`
			Processes []struct {
				PID       int      `json:"pid"`
				CloseWait *int     `json:"close_wait"`
				Flags     []string `json:"flags"`
			} `json:"processes"`
		}
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatalf("not one JSON document a line: %v\n%s", err, l)
		}
		if doc.Schema != "nodeinspect/v1" || len(doc.Processes) != 1 || doc.Processes[0].PID != pid || *doc.Processes[0].CloseWait != 120 {
			t.Fatalf("unexpected document: %s", l)
		}
	}
}
