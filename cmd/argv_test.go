package cmd

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// positions returns the same command line with its flags in every place a user may put
// them: before the command, right after it, after the arguments, and split around them.
func positions(cmd string, args, flags []string) map[string][]string {
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	c := []string{cmd}
	p := map[string][]string{
		"before the command": cat(flags, c, args),
		"after the command":  cat(c, flags, args),
		"after the args":     cat(c, args, flags),
	}
	if len(flags) > 1 && len(args) > 0 {
		// The first flag (with its value, if the next one is not a flag) before the command,
		// the rest after the first argument.
		k := 1
		if k < len(flags) && !strings.HasPrefix(flags[k], "-") {
			k++
		}
		p["split"] = cat(flags[:k], c, args[:1], flags[k:], args[1:])
	}
	return p
}

// Every command honours every flag in every position: the output and the exit code are
// those of the flags given after the arguments, and the flags took effect there (JSON, and
// the exit code of --fail-on).
func TestFlagsInEveryPosition(t *testing.T) {
	deleted, dpid := scenarioRoot(t, "deleted")
	zombies, _ := scenarioRoot(t, "zombies")
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	for _, s := range []struct{ name, file string }{{"healthy", a}, {"fd-leak", b}} {
		root, pid := scenarioRoot(t, s.name)
		if _, stderr, code := runCLI(t, root, false, "snapshot", itoa(pid), "-o", s.file, "--sample", "0"); code != 0 {
			t.Fatalf("snapshot %s: exit %d %s", s.name, code, stderr)
		}
	}
	snapOut := filepath.Join(dir, "snap.json")
	cases := []struct {
		cmd   string
		root  string
		args  []string
		flags []string
		code  int // with the flags; without them the code differs where it is not 0
		lines bool
	}{
		{"report", deleted, []string{itoa(dpid)}, []string{"--json", "--fail-on", "warning", "--sample", "0"}, 1, false},
		{"fds", deleted, []string{itoa(dpid)}, []string{"--json", "--fail-on", "warning", "--sample", "0"}, 1, false},
		{"sockets", deleted, []string{itoa(dpid)}, []string{"--json", "--fail-on=warning", "--sample", "0"}, 1, false},
		{"mem", deleted, []string{itoa(dpid)}, []string{"--format", "json", "--fail-on", "warning", "--sample", "0"}, 0, false},
		{"tree", deleted, []string{itoa(dpid)}, []string{"--json", "--fail-on", "warning", "--sample=0"}, 0, false},
		{"ps", zombies, nil, []string{"--json", "--fail-on", "warning"}, 1, false},
		{"watch", deleted, []string{itoa(dpid)}, []string{"--json", "--interval", "100ms", "--duration", "250ms", "--fail-on", "never"}, 0, true},
		{"snapshot", deleted, []string{itoa(dpid)}, []string{"-o", snapOut, "--fail-on", "warning", "--sample", "0"}, 1, false},
		{"diff", deleted, []string{a, b}, []string{"--json", "--fail-on", "info"}, 1, false},
		{"analyze", deleted, []string{reportFixture("v4-crash.json")}, []string{"--json", "--fail-on", "never"}, 0, false},
		{"version", deleted, nil, []string{"--json"}, 0, false},
	}
	for _, c := range cases {
		var want string
		for name, args := range positions(c.cmd, c.args, c.flags) {
			t.Run(c.cmd+" "+name, func(t *testing.T) {
				out, stderr, code := runCLI(t, c.root, false, args...)
				if code != c.code {
					t.Fatalf("%q: exit %d, want %d; stderr %q", args, code, c.code, stderr)
				}
				if c.cmd == "snapshot" {
					return
				}
				docs := []string{out}
				if c.lines {
					docs = strings.Split(strings.TrimSpace(out), "\n")
				}
				for _, d := range docs {
					if !json.Valid([]byte(d)) {
						t.Fatalf("%q: not JSON: %q", args, d)
					}
				}
				if c.lines {
					return // samples carry their own times
				}
				if want == "" {
					want = out
				} else if out != want {
					t.Errorf("%q: output differs from the other positions", args)
				}
			})
		}
	}
	// Bare pid: `nodeinspect <pid>` is report, with flags on either side.
	for _, args := range [][]string{
		{"--fail-on", "warning", itoa(dpid), "--json", "--sample", "0"},
		{"--json", "--sample", "0", "--fail-on", "warning", itoa(dpid)},
		{itoa(dpid), "--json", "--sample", "0", "--fail-on", "warning"},
	} {
		if out, stderr, code := runCLI(t, deleted, false, args...); code != 1 || !json.Valid([]byte(out)) {
			t.Errorf("%q: exit %d (want 1), stderr %q", args, code, stderr)
		}
	}
}

// Without the flags, the same command lines exit 0: the flags above were not ignored.
func TestFlagsInEveryPositionFailWithoutThem(t *testing.T) {
	deleted, dpid := scenarioRoot(t, "deleted")
	for _, args := range [][]string{
		{"report", itoa(dpid), "--sample", "0"},
		{"--sample", "0", itoa(dpid)},
	} {
		if _, stderr, code := runCLI(t, deleted, false, args...); code != 0 {
			t.Errorf("%q: exit %d, want 0; stderr %q", args, code, stderr)
		}
	}
	// A crash report is critical (PROCESS_CRASHED): without --fail-on never it fails.
	if _, stderr, code := runCLI(t, deleted, false, "analyze", reportFixture("v4-crash.json")); code != 1 {
		t.Errorf("analyze of a crash report: exit %d, want 1; stderr %q", code, stderr)
	}
}

// snapshot records; it does not judge: a process with a critical finding is snapshotted
// with exit 0 unless --fail-on is given.
func TestSnapshotDefaultsToFailOnNever(t *testing.T) {
	root, pid := scenarioRoot(t, "fd-leak")
	out := filepath.Join(t.TempDir(), "s.json")
	if _, stderr, code := runCLI(t, root, false, "snapshot", itoa(pid), "-o", out, "--sample", "0"); code != 0 {
		t.Fatalf("snapshot of a critical process: exit %d, want 0; %s", code, stderr)
	}
	if _, _, code := runCLI(t, root, false, "--fail-on", "critical", "snapshot", itoa(pid), "-o", out, "--sample", "0"); code != 1 {
		t.Fatalf("snapshot --fail-on critical: exit %d, want 1", code)
	}
}

// A flag that a command does not have is an error naming it, wherever it is given.
func TestFlagThatDoesNotApply(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	p := itoa(pid)
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--sample", "1s", "diff", "a", "b"}, "--sample"},
		{[]string{"diff", "--sample", "1s", "a", "b"}, "--sample"},
		{[]string{"diff", "a", "b", "--sample=1s"}, "--sample"},
		{[]string{"ps", "--attach"}, "--attach"},
		{[]string{"--attach", "ps"}, "--attach"},
		{[]string{"analyze", "f.json", "--proc", "/proc"}, "--proc"},
		{[]string{"--any", "analyze", "f.json"}, "--any"},
		{[]string{"diff", "a", "b", "--proc", "/proc"}, "--proc"},
		{[]string{"snapshot", p, "-o", "x", "--format", "table"}, "--format"},
		{[]string{"watch", p, "--sample", "1s"}, "--sample"},
		{[]string{"version", "--fail-on", "warning"}, "--fail-on"},
		{[]string{"--interval", "1s", "report", p}, "--interval"},
		{[]string{"--interval", "1s", p}, "--interval"},
		{[]string{"diff", "a", "b", "--emfile-warning", "50"}, "--emfile-warning"},
		{[]string{"report", p, "--bogus"}, "--bogus"},
		{[]string{"--bogus", "report", p}, "--bogus"},
		{[]string{"report", p, "--fail-on"}, "--fail-on"},
		{[]string{"--json"}, "--json"},
		{[]string{"tree", p, "--attach"}, "--attach"},
		{[]string{"report", p, "--attach-timeout", "2s"}, "--attach-timeout"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, stderr, code := runCLI(t, root, false, c.args...)
			if code != ExitUsage || out != "" {
				t.Fatalf("exit %d (want 2), stdout %q", code, out)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.flag) {
				t.Fatalf("stderr must be one line naming %s: %q", c.flag, stderr)
			}
		})
	}
}

// Threshold flags refuse what cannot be a threshold, naming the flag, in any position.
func TestThresholdValidation(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	p := itoa(pid)
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"report", p, "--emfile-warning", "NaN"}, "--emfile-warning must be a number"},
		{[]string{"--emfile-warning", "nan", "report", p}, "--emfile-warning must be a number"},
		{[]string{"report", p, "--heap-critical", "Inf"}, "--heap-critical must be a number"},
		{[]string{"report", p, "--emfile-critical", "-5"}, "--emfile-critical must be above 0"},
		{[]string{"report", p, "--backlog-percent", "0"}, "--backlog-percent must be above 0"},
		{[]string{"report", p, "--heap-warning", "101"}, "--heap-warning is a percentage"},
		{[]string{"ps", "--emfile-critical", "250"}, "--emfile-critical is a percentage"},
		{[]string{"report", p, "--close-wait-warning", "-1"}, "--close-wait-warning must be at least 1"},
		{[]string{"report", p, "--close-wait-critical", "0"}, "--close-wait-critical must be at least 1"},
		{[]string{"report", p, "--close-wait-warning", "ten"}, "--close-wait-warning"},
		{[]string{"report", p, "--external-ratio", "-3"}, "--external-ratio must be above 0"},
		{[]string{"report", p, "--emfile-warning", "90", "--emfile-critical", "85"}, "--emfile-warning 90 is above --emfile-critical 85"},
		{[]string{"report", p, "--emfile-warning", "97"}, "--emfile-warning 97 is above --emfile-critical 95 (the default)"},
		{[]string{"analyze", "x.json", "--heap-critical", "50"}, "--heap-warning 85 (the default) is above --heap-critical 50"},
		{[]string{"report", p, "--close-wait-warning", "500"}, "--close-wait-warning 500 is above --close-wait-critical 100"},
		{[]string{"diff", "a", "b", "--min-fd-growth", "0"}, "--min-fd-growth must be at least 1"},
		{[]string{"report", p, "--proc", "/nonexistent"}, "--proc /nonexistent: no such file or directory"},
		{[]string{"--proc", "/nonexistent", "ps"}, "--proc /nonexistent: no such file or directory"},
		{[]string{"report", p, "--proc", "/etc/hostname"}, "is not a directory"},
		{[]string{"report", p, "--proc", t.TempDir()}, "does not look like a proc tree"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, stderr, code := runCLI(t, root, false, c.args...)
			if code != ExitUsage || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.msg) {
				t.Fatalf("exit %d stdout %q stderr %q, want exit 2 and %q", code, out, stderr, c.msg)
			}
		})
	}
	// Good values pass, and a fake tree given with --proc is read.
	if _, stderr, code := runCLI(t, "/nonexistent", false, "report", p, "--proc", root, "--emfile-warning", "50.5", "--emfile-critical", "100", "--sample", "0"); code != 0 {
		t.Fatalf("valid thresholds: exit %d %s", code, stderr)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		out, _, code := runCLI(t, "/proc", false, args...)
		if code != 0 || !strings.Contains(out, "help [command]") || !strings.Contains(out, "completion") {
			t.Errorf("%q: exit %d\n%s", args, code, out)
		}
	}
	for _, args := range [][]string{{"help", "diff"}, {"diff", "--help"}, {"--help", "diff"}, {"diff", "a", "b", "-h"}} {
		out, _, code := runCLI(t, "/proc", false, args...)
		if code != 0 || !strings.Contains(out, "EXAMPLES:") || !strings.Contains(out, "EXIT CODES:") || !strings.Contains(out, "--min-fd-growth") {
			t.Errorf("%q: exit %d\n%s", args, code, out)
		}
		// Only diff's own flags.
		for _, other := range []string{"--sample", "--attach", "--proc", "--emfile-warning", "--any"} {
			if strings.Contains(out, other) {
				t.Errorf("%q: help of diff lists %s", args, other)
			}
		}
	}
	for _, name := range []string{"report", "fds", "sockets", "mem", "tree", "ps", "watch", "snapshot", "diff", "analyze", "version", "completion"} {
		out, _, code := runCLI(t, "/proc", false, "help", name)
		if code != 0 || strings.Count(out, "nodeinspect "+name) < 2 || !strings.Contains(out, "EXIT CODES:") {
			t.Errorf("help %s: exit %d\n%s", name, code, out)
		}
	}
	if _, stderr, code := runCLI(t, "/proc", false, "help", "nope"); code != ExitUsage || !strings.Contains(stderr, "nope") {
		t.Errorf("help nope: exit %d %q", code, stderr)
	}
}

func TestCompleteCandidates(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	for _, c := range []struct {
		words []string
		want  string
	}{
		{[]string{"rep"}, "report"},
		{[]string{"s"}, "sockets,snapshot,stack,serve"},
		{[]string{"report", "--fo"}, "--format,--follow"},
		{[]string{"report", "--form"}, "--format"},
		{[]string{"--fa"}, "--fail-on"},
		{[]string{"report", "--format", ""}, "table,plain,json,markdown"},
		{[]string{"--fail-on", "w"}, "warning"},
		{[]string{"report", ""}, itoa(pid)},
		{[]string{"--json", "fds", "--sample", "1s", ""}, itoa(pid)},
		{[]string{"report", itoa(pid), ""}, ""},
		{[]string{"ps", "--att"}, ""},
		{[]string{"watch", "--att"}, "--attach,--attach-timeout"},
		{[]string{"diff", ""}, ":file"},
		{[]string{"analyze", "a.json", ""}, ":file"},
		{[]string{"snapshot", itoa(pid), "-o", ""}, ":file"},
		{[]string{"report", "--proc", ""}, ":dir"},
		{[]string{"completion", ""}, "bash,zsh,fish"},
		{[]string{"help", "an"}, "analyze"},
		{[]string{"4"}, "4242"},
	} {
		out, stderr, code := runCLI(t, root, false, append([]string{"__complete"}, c.words...)...)
		if got := strings.Join(strings.Fields(out), ","); code != 0 || got != c.want {
			t.Errorf("%q: got %q (exit %d %s), want %q", c.words, got, code, stderr, c.want)
		}
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, _, code := runCLI(t, root, false, "completion", sh)
		if code != 0 || !strings.Contains(out, "__complete") {
			t.Errorf("completion %s: exit %d", sh, code)
		}
	}
	if _, stderr, code := runCLI(t, root, false, "completion", "tcsh"); code != ExitUsage || !strings.Contains(stderr, "bash, zsh or fish") {
		t.Errorf("completion tcsh: exit %d %q", code, stderr)
	}
}

// canonicalArgs never panics, and what it returns is the command first, its flags, "--" and
// the positional arguments, none of them lost.
func FuzzCanonicalArgs(f *testing.F) {
	for _, s := range []string{"--fail-on warning report 1234 --json", "1234 --sample 0", "diff a b --json", "--json", "help report",
		"analyze - --fail-on=info", "report -5", "--sample", "ps --attach", "-- 1234", "report 1 -- --json", "__complete rep"} {
		f.Add(s)
	}
	root := newRoot(Deps{Proc: "/proc"})
	f.Fuzz(func(t *testing.T, line string) {
		args := append([]string{"nodeinspect"}, strings.Fields(line)...)
		out, err := canonicalArgs(root, args)
		if err != nil || len(out) < 2 || out[1] == "--help" || out[1] == "help" || out[1] == completeCommand {
			return
		}
		if findCommand(root, out[1]) == nil {
			t.Fatalf("%q -> %q: no command first", args, out)
		}
		if len(out) > 2 && out[len(out)-1] == "--help" {
			return
		}
		sep := -1
		for i, a := range out {
			if a == "--" {
				sep = i
				break
			}
		}
		if sep < 0 {
			t.Fatalf("%q -> %q: no --", args, out)
		}
		if len(out)-1 > len(args)+1 {
			t.Fatalf("%q -> %q: arguments appeared", args, out)
		}
	})
}
