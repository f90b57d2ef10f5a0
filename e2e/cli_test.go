package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/internal/realnode"
)

// readmeCIRecipe returns the README's CI recipe: the shell block that snapshots before and
// after `npm test` and diffs them, exactly as a user copies it.
func readmeCIRecipe(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(realnode.Root(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(data), -1) {
		if strings.Contains(m[1], `-o before.json`) && strings.Contains(m[1], "npm test") {
			return m[1]
		}
	}
	t.Fatal("README.md has no CI recipe (a sh block with `-o before.json` and `npm test`)")
	return ""
}

// binDir is a directory holding `nodeinspect` (the binary under test), for PATH.
func binDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(binary, filepath.Join(dir, "nodeinspect")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The README's CI recipe runs as written under bash -e against a service that already has a
// critical finding (EMFILE_RISK: the old snapshot exited 1 on it and stopped the job before
// the tests ran). With a leak during `npm test` the job fails on the last line, the gate,
// after writing the summary; without one it passes.
func TestReadmeCIRecipe(t *testing.T) {
	recipe := readmeCIRecipe(t)
	for _, leak := range []bool{true, false} {
		t.Run("leak="+strconv.FormatBool(leak), func(t *testing.T) {
			// 96% of a soft limit of 1000: EMFILE_RISK critical before the tests run.
			p := realnode.Start(t, "cli_ci_leak.js", realnode.NoFile(1000), realnode.Args("960", "20"))
			dir := binDir(t)
			// npm test: make the service leak (SIGUSR2) and wait until it has, by its fd count.
			npm := `#!/bin/sh
[ "$LEAK" = true ] || exit 0
kill -USR2 "$PID"
i=0
while [ "$(ls /proc/$PID/fd | wc -l)" -lt 980 ]; do
	i=$((i+1)); [ $i -lt 1000 ] || { echo "no leak after 10 s" >&2; exit 1; }
	sleep 0.01
done
`
			if err := os.WriteFile(filepath.Join(dir, "npm"), []byte(npm), 0o755); err != nil {
				t.Fatal(err)
			}
			work := t.TempDir()
			summary := filepath.Join(work, "summary.md")
			cmd := exec.Command("bash", "-e", "-c", recipe)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "PID="+strconv.Itoa(p.PID),
				"GITHUB_STEP_SUMMARY="+summary, "LEAK="+strconv.FormatBool(leak))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			md, _ := os.ReadFile(summary)
			if _, err := os.Stat(filepath.Join(work, "after.json")); err != nil || len(md) == 0 {
				t.Fatalf("the recipe stopped before its summary (exit %d): %v\nstderr:\n%s", code, err, stderr.String())
			}
			if !leak {
				if code != 0 || !strings.Contains(string(md), "no growth") {
					t.Fatalf("no leak: exit %d\nsummary:\n%s\nstderr:\n%s", code, md, stderr.String())
				}
				return
			}
			if code != 1 || !strings.Contains(stderr.String(), "FD_GROWTH") {
				t.Fatalf("leak: exit %d (want 1 from the gate)\nstderr:\n%s", code, stderr.String())
			}
			// Seconds apart: changes, not rates; and the unlinked temp file is named.
			for _, want := range []string{"FD_GROWTH", "DELETED_FILES_HELD", "not rates", "nodeinspect-ci-" + strconv.Itoa(p.PID) + ".tmp"} {
				if !strings.Contains(string(md), want) {
					t.Errorf("summary lacks %q:\n%s", want, md)
				}
			}
			if strings.Contains(string(md), "rate_per_hour") || strings.Contains(string(md), "EMFILE in") {
				t.Errorf("a rate from snapshots seconds apart:\n%s", md)
			}
		})
	}
}

// The CI trap: a flag before the command was silently ignored (exit 0).
func TestFlagsBeforeTheCommandOnARealProcess(t *testing.T) {
	p := realnode.Start(t, "cli_ci_leak.js", realnode.NoFile(1000), realnode.Args("850", "0")) // 85%: a warning
	pid := strconv.Itoa(p.PID)
	for _, args := range [][]string{
		{"--fail-on", "warning", "report", pid, "--sample", "0"},
		{"--fail-on", "warning", "--json", pid, "--sample", "0"},
		{"report", "--fail-on=warning", pid, "--sample", "0"},
		{"report", pid, "--sample", "0", "--fail-on", "warning"},
	} {
		out, stderr, code := run(t, args...)
		if code != 1 || !strings.Contains(stderr, "EMFILE_RISK (warning)") {
			t.Errorf("%q: exit %d, want 1; stderr %q", args, code, stderr)
		}
		if args[2] == "--json" && !json.Valid([]byte(out)) {
			t.Errorf("%q: --json before the command did not give JSON", args)
		}
	}
	if _, stderr, code := run(t, "--sample", "1s", "diff", "a.json", "b.json"); code != 2 || !strings.Contains(stderr, "--sample does not apply to diff") {
		t.Errorf("--sample on diff: exit %d %q", code, stderr)
	}
	if _, stderr, code := run(t, "report", pid, "--proc", "/nonexistent"); code != 2 || !strings.Contains(stderr, "--proc /nonexistent") {
		t.Errorf("--proc /nonexistent: exit %d %q", code, stderr)
	}
}

// analyze of several files and of stdin, through the real binary.
func TestAnalyzeSeveralFilesAndStdin(t *testing.T) {
	fixtures := filepath.Join(realnode.Root(t), "inspect", "nodereport", "testdata")
	crash, oom := filepath.Join(fixtures, "v4-crash.json"), filepath.Join(fixtures, "v4-oom.json")
	out, stderr, code := run(t, "analyze", crash, oom)
	if code != 1 || !strings.Contains(out, "==> "+crash+" <==") || !strings.Contains(out, "==> "+oom+" <==") ||
		!strings.Contains(stderr, "HEAP_NEAR_LIMIT in "+oom+" (critical)") {
		t.Fatalf("two files: exit %d\n%s\nstderr %s", code, out, stderr)
	}
	data, err := os.ReadFile(oom)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "analyze", "--json", "-")
	cmd.Stdin = bytes.NewReader(data)
	got, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(got), `"source_file":"(stdin)"`) {
		t.Fatalf("stdin: %v\n%.300s", err, got)
	}
}

// watch piped prints lines, never the live view's cursor codes.
func TestWatchPipedHasNoEscapeCodes(t *testing.T) {
	p := realnode.Start(t, "healthy.js")
	pid := strconv.Itoa(p.PID)
	for _, format := range []string{"plain", "json"} {
		out, stderr, code := run(t, "watch", pid, "--format", format, "--interval", "200ms", "--duration", "1s")
		if code != 0 {
			t.Fatalf("%s: exit %d %s", format, code, stderr)
		}
		if bytes.IndexByte([]byte(out), 0x1b) >= 0 {
			t.Fatalf("%s: escape codes in piped output: %q", format, out)
		}
		first := strings.SplitN(out, "\n", 2)[0]
		if format == "plain" && (!strings.Contains(first, "pid "+pid+"  seq 0  fds ") || strings.HasPrefix(first, "{")) {
			t.Fatalf("plain: first line %q", first)
		}
	}
}

// The bash completion script works when sourced: its function, called the way bash calls
// it, offers commands, flags, flag values and the pids of Node.js processes. The zsh and
// fish scripts parse.
func TestCompletionScripts(t *testing.T) {
	p := realnode.Start(t, "idle.js")
	script, _, code := run(t, "completion", "bash")
	if code != 0 {
		t.Fatalf("completion bash: exit %d", code)
	}
	dir := binDir(t)
	complete := func(words ...string) string {
		t.Helper()
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, strconv.Quote(w))
		}
		prog := script + "\n" + `COMP_WORDS=(` + strings.Join(quoted, " ") + `); COMP_CWORD=` + strconv.Itoa(len(words)-1) + `
_nodeinspect
printf '%s\n' "${COMPREPLY[@]}"
complete -p nodeinspect >/dev/null || echo "not registered"`
		cmd := exec.Command("bash", "--norc", "--noprofile", "-c", prog)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", words, err, out)
		}
		return strings.Join(strings.Fields(string(out)), ",")
	}
	pid := strconv.Itoa(p.PID)
	for _, c := range []struct {
		words []string
		want  string
	}{
		{[]string{"nodeinspect", "rep"}, "report"},
		{[]string{"nodeinspect", "report", "--fail"}, "--fail-on"},
		{[]string{"nodeinspect", "--format", "ma"}, "markdown"},
		{[]string{"nodeinspect", "completion", "f"}, "fish"},
		{[]string{"nodeinspect", "ps", "--att"}, ""},
	} {
		if got := complete(c.words...); got != c.want {
			t.Errorf("%q: got %q, want %q", c.words, got, c.want)
		}
	}
	if got := complete("nodeinspect", "fds", pid[:len(pid)-1]); !strings.Contains(","+got+",", ","+pid+",") {
		t.Errorf("pid completion: %q lacks %s", got, pid)
	}
	for _, sh := range []string{"zsh", "fish"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			t.Logf("%s not installed: its completion script is not checked", sh)
			continue
		}
		script, _, code := run(t, "completion", sh)
		f := filepath.Join(t.TempDir(), "completion."+sh)
		if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(path, "-n", f).CombinedOutput(); err != nil || code != 0 {
			t.Errorf("%s -n: %v (exit %d)\n%s", sh, err, code, out)
		}
		// And it completes: fish through its own `complete -C`; zsh with compadd and compdef
		// stood in for (the completion system needs a terminal).
		prog := `source ` + f + `; complete -C "nodeinspect report --form"; complete -C "nodeinspect completion z"`
		if sh == "zsh" {
			prog = `compdef() { :; }; compadd() { [[ $1 == -a ]] && print -l -- ${(P)2}; }; source ` + f + `
words=(nodeinspect report --form); CURRENT=3; _nodeinspect; words=(nodeinspect completion z); CURRENT=3; _nodeinspect`
		}
		cmd := exec.Command(path, "-c", prog)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if got := strings.Join(strings.Fields(string(out)), ","); err != nil || got != "--format,zsh" {
			t.Errorf("%s completion: %v, got %q, want --format,zsh", sh, err, got)
		}
	}
}

// `make install PREFIX=dir` puts a working binary in dir/bin.
func TestMakeInstall(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	prefix := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "install", "PREFIX="+prefix)
	cmd.Dir = realnode.Root(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(prefix, "bin", "nodeinspect"), "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "nodeinspect ") {
		t.Fatalf("installed binary: %v %s", err, out)
	}
}

// A process.title shorter than the arguments leaves NUL padding: cmdline is the title, not
// the title and a tail of empty arguments.
func TestCmdlineAfterProcessTitle(t *testing.T) {
	p := realnode.Start(t, "cli_title.js", realnode.Args("svc", "a-long-argument-to-leave-room", "and-another-long-one"))
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/cmdline")
	if err != nil || !bytes.HasPrefix(raw, []byte("svc\x00\x00")) {
		t.Fatalf("the kernel's cmdline is not a padded title (the test's premise): %q %v", raw, err)
	}
	out, stderr, code := run(t, "report", strconv.Itoa(p.PID), "--json", "--sample", "0")
	var s snapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil || code != 0 {
		t.Fatalf("exit %d %v %s", code, err, stderr)
	}
	if len(s.Process.Cmd) != 1 || s.Process.Cmd[0] != "svc" {
		t.Fatalf("cmdline %q, want [svc]", s.Process.Cmd)
	}
}

// started_at is exact to the clock tick: a process forked between two clock reads starts,
// by the report, no earlier than a tick before the first and no later than the second.
func TestStartedAtToTheTick(t *testing.T) {
	t0 := time.Now()
	cmd := exec.Command("sleep", "120")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	pid := cmd.Process.Pid
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	out, stderr, code := run(t, "report", strconv.Itoa(pid), "--any", "--json", "--sample", "0")
	var s struct {
		Process struct {
			StartedAt time.Time `json:"started_at"`
		} `json:"process"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil || code != 0 {
		t.Fatalf("exit %d %v %s", code, err, stderr)
	}
	// The kernel counts the start in clock ticks (10 ms) since boot, truncated: the start
	// reads up to one tick early. 2 ms more either side for the boot clock's reads and NTP
	// slewing. From btime (whole seconds) it would be up to a second early.
	const tick, slack = 10 * time.Millisecond, 2 * time.Millisecond
	if got := s.Process.StartedAt; got.Before(t0.Add(-tick-slack)) || got.After(t1.Add(slack)) {
		t.Fatalf("started_at %s, forked between %s and %s (%s before the first read)",
			got.Format(time.RFC3339Nano), t0.Format(time.RFC3339Nano), t1.Format(time.RFC3339Nano), t0.Sub(got))
	}
}
