package cmd

import (
	"strings"
	"testing"
)

// clearScreen is what the live view of watch writes before each frame (cursor home, clear).
const clearScreen = "\x1b[H\x1b[2J"

// watch --format plain without a terminal prints one plain line per sample and a plain
// summary: no escape codes (no clear-screen, no colour) and no JSON.
func TestWatchPlainOnAPipe(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	for _, args := range [][]string{
		{"watch", itoa(pid), "--format", "plain", "--interval", "100ms", "--duration", "250ms"},
		{"--format=plain", "watch", "--interval", "100ms", itoa(pid), "--duration", "250ms"},
	} {
		out, stderr, code := runCLI(t, root, false, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d %s", args, code, stderr)
		}
		if strings.ContainsRune(out, 0x1b) {
			t.Fatalf("%q: escape codes on a pipe:\n%q", args, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) < 3 || !strings.Contains(lines[0], "pid "+itoa(pid)+"  seq 0  fds 13") || strings.HasPrefix(lines[0], "{") {
			t.Fatalf("%q: first line %q", args, lines[0])
		}
		if !strings.Contains(out, "watch of pid "+itoa(pid)+" ended (duration)") {
			t.Fatalf("%q: no plain summary:\n%s", args, out)
		}
	}
	// On a terminal the same command redraws in place (the codes this test must not see).
	out, _, _ := runCLI(t, root, true, "watch", itoa(pid), "--format", "plain", "--interval", "100ms", "--duration", "250ms")
	if !strings.Contains(out, clearScreen) {
		t.Fatalf("live view on a terminal lost its redraw")
	}
	// Piped without --format: the documented JSON lines.
	out, _, _ = runCLI(t, root, false, "watch", itoa(pid), "--interval", "100ms", "--duration", "250ms")
	if !strings.HasPrefix(out, `{"schema"`) {
		t.Fatalf("piped default changed: %.100s", out)
	}
}
