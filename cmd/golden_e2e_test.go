package cmd

// End-to-end goldens (issue 11): every fake /proc scenario of internal/fakeproc, and every
// Node.js diagnostic report fixture, through the real collector, the real rules and the
// real renderers, driven through the real command line in memory. One golden file per
// scenario, command and format under testdata/goldens, so a change to a rule or a renderer
// shows up in review as a text diff of what a user sees.
//
// Rewrite them with
//
//	go test ./cmd -run Golden -update
//
// and review the diff.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
)

// goldenDir holds the end-to-end goldens: proc/<scenario>.<command>.<format> and
// nodereport/<fixture>.analyze.<format>, each with a <...>.<command>.exit file beside them
// holding the exit code and stderr (the same for every format, which the test checks).
const goldenDir = "../testdata/goldens"

// goldenFormats are the values of --format. json is rendered as on a terminal (indented,
// for readable diffs); the compact JSON of a pipe is checked to be the same document.
var goldenFormats = []string{"table", "plain", "json", "markdown"}

// goldenCommands are the per-process commands each scenario runs besides report, fds and
// ps (which every scenario runs): the views that show what the scenario is about.
var goldenCommands = map[string][]string{
	"healthy":     {"sockets", "mem", "tree"},
	"close-wait":  {"sockets"},
	"hostile":     {"sockets"},
	"zombies":     {"tree"},
	"orphan":      {"tree"},
	"spawnsync":   {"tree"},
	"async-child": {"tree"},
}

// The -update flag; registered in init unless another test file of this package already
// registers one of the same name (package-level flag.Bool calls run before any init), so
// the two never panic with "flag redefined".
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files")
	}
}

func updatingGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// goldenNarrowWidths pins the table renderer's width of East Asian ambiguous characters
// (box drawing included), which the library otherwise detects from LANG, LC_ALL and
// RUNEWIDTH_EASTASIAN: a host-dependent value. twwidth.SetOptions takes a lock.
var goldenNarrowWidths sync.Once

// goldenCase is one command line whose outputs are compared with goldens.
type goldenCase struct {
	// name is the goldens' base name below goldenDir: proc/healthy.report.
	name string
	// proc is the proc root (Deps.Proc and --proc); args the command line without --format.
	proc string
	args []string
}

// The sampling window is timed by the wall clock, the one host-dependent input a fake /proc
// lets through: the window measured (the requested --sample plus scheduling jitter: 300 or
// 301 ms) and the number of samples its 5 ms ticker took in it (61, fewer on a loaded
// host). normalise replaces them, where the output prints them, with <window> and <n>;
// every other figure is the fake tree's or the fixed clock's. A count of 0 stays (whether
// the thread was ever seen in epoll is what the verdict turns on). The same values in a
// new place make the test flaky; add the place here.
var (
	measuredWindow = regexp.MustCompile(`"window_ms": ?\d+|\bwindow=\d+(?:\.\d+)?m?s\b|\bover \d+(?:\.\d+)?m?s\b|\bfor \d+(?:\.\d+)? m?s\b|\b\d+(?:\.\d+)? ?m?s window\b`)
	// windowDuration is a window written as a duration: 300ms, or 1.1s on a loaded machine.
	windowDuration = regexp.MustCompile(`\d+(?:\.\d+)?( ?)m?s\b`)
	sampleCount    = regexp.MustCompile(`"samples": ?\d+|\bsamples=\d+|\bin(\\)?_epoll=\d+|"in_epoll": ?\d+|\bin \d+ samples\b|\b\d+ of \d+ samples\b|"seen": ?\{[^}]*\}|\bseen:? [^;\n|]*`)
	number         = regexp.MustCompile(`\d+`)
	nonzero        = regexp.MustCompile(`\b[1-9]\d*\b`)
)

// normalise replaces the measured window with <window>, the sample counts with <n> and the
// proc root (a temporary directory) with <proc>.
func normalise(s, proc string) string {
	if proc != "" {
		s = strings.ReplaceAll(s, proc, "<proc>")
	}
	s = measuredWindow.ReplaceAllStringFunc(s, func(m string) string {
		return number.ReplaceAllString(windowDuration.ReplaceAllString(m, "<window>${1}ms"), "<window>")
	})
	return sampleCount.ReplaceAllStringFunc(s, func(m string) string { return nonzero.ReplaceAllString(m, "<n>") })
}

// goldenRun runs the command line in memory: a fixed clock, no colour, no terminal width,
// an empty environment and a fixed user name (the fake uid 1000 has none on this host, or
// another one).
func goldenRun(proc string, tty bool, args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = Run(context.Background(), append([]string{"nodeinspect"}, args...), Deps{
		Proc: proc, Out: &out, Err: &errb, Now: func() time.Time { return fixedNow }, IsTTY: tty, Width: 0,
		Getenv: func(string) string { return "" }, UserName: func(int) string { return "app" },
	})
	return out.String(), errb.String(), code
}

// goldenCases builds every scenario's tree below dir and lists the command lines.
func goldenCases(t *testing.T, dir string) []goldenCase {
	t.Helper()
	if len(fakeproc.Scenarios) == 0 {
		t.Fatal("fakeproc.Scenarios is empty: no goldens would be compared")
	}
	var cases []goldenCase
	for _, s := range fakeproc.Scenarios {
		root, err := fakeproc.Build(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		pid := itoa(s.Target)
		for _, command := range append([]string{"report", "fds"}, goldenCommands[s.Name]...) {
			cases = append(cases, goldenCase{name: "proc/" + s.Name + "." + command, proc: root, args: []string{command, pid, "--proc", root}})
		}
		cases = append(cases, goldenCase{name: "proc/" + s.Name + ".ps", proc: root, args: []string{"ps", "--proc", root}})
	}
	for name := range goldenCommands {
		found := false
		for _, s := range fakeproc.Scenarios {
			found = found || s.Name == name
		}
		if !found {
			t.Errorf("goldenCommands names %q, which is not a scenario", name)
		}
	}
	reports, err := filepath.Glob(reportFixture("*.json"))
	if err != nil || len(reports) == 0 {
		t.Fatalf("no Node.js report fixtures in %s (%v)", reportFixture(""), err)
	}
	for _, path := range reports {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		cases = append(cases, goldenCase{name: "nodereport/" + name + ".analyze", args: []string{"analyze", path}})
	}
	return cases
}

// goldenOutput is what one run printed, normalised.
type goldenOutput struct {
	stdout, exit string
}

// goldenRuns are the runs of one case: one per format, and compact is --format json on a
// pipe.
type goldenRuns struct {
	byFormat map[string]goldenOutput
	compact  goldenOutput
}

// runGoldenCases runs every case in every format at once: each run with a sampling window
// waits 300 ms on the wall clock, so run one after the other (or -parallel at a small
// GOMAXPROCS) they would take tens of seconds.
func runGoldenCases(cases []goldenCase) []goldenRuns {
	runs := make([]goldenRuns, len(cases))
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	run := func(i int, format string, tty bool, args []string) {
		defer wg.Done()
		sem <- struct{}{}
		defer func() { <-sem }()
		c := cases[i]
		stdout, stderr, code := goldenRun(c.proc, tty, args...)
		for try := 1; try < 5 && starvedSample(stderr); try++ {
			// The sampler could not judge the loop on a loaded machine (it says so, and
			// the verdict is unknown): that is the machine, not the scenario. Run again.
			stdout, stderr, code = goldenRun(c.proc, tty, args...)
		}
		if format == "compact" && stdout != "" {
			stdout = strings.TrimSuffix(stdout, "\n")
		}
		o := goldenOutput{stdout: normalise(stdout, c.proc), exit: normalise(fmt.Sprintf("exit %d\n%s", code, stderr), c.proc)}
		mu.Lock()
		defer mu.Unlock()
		if format == "compact" {
			runs[i].compact = o
		} else {
			runs[i].byFormat[format] = o
		}
	}
	for i, c := range cases {
		runs[i].byFormat = map[string]goldenOutput{}
		for _, format := range goldenFormats {
			wg.Add(1)
			// JSON as on a terminal (indented); the others with --no-color, which a terminal
			// would need and a pipe ignores.
			go run(i, format, format == "json", append(slices.Clip(c.args), "--format", format, "--no-color"))
		}
		wg.Add(1)
		go run(i, "compact", false, append(slices.Clip(c.args), "--format", "json"))
	}
	wg.Wait()
	return runs
}

// starvedSample reports whether a run's warnings say the loop sample could not be judged
// for lack of time on a CPU: too few samples in the window, or a main thread that barely
// ran.
func starvedSample(stderr string) bool {
	return strings.Contains(stderr, "samples are too few to tell") || strings.Contains(stderr, "wanted a CPU for the whole window")
}

// TestGoldenEndToEnd compares every scenario's output in every format with its golden.
func TestGoldenEndToEnd(t *testing.T) {
	t.Parallel()
	goldenNarrowWidths.Do(func() { twwidth.SetOptions(twwidth.Options{EastAsianWidth: false}) })
	update := updatingGoldens()
	if update {
		for _, sub := range []string{"proc", "nodereport"} {
			if err := os.RemoveAll(filepath.Join(goldenDir, sub)); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := goldenCases(t, t.TempDir())
	runs := runGoldenCases(cases)
	compared := map[string]bool{}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runs[i]
			first := r.byFormat[goldenFormats[0]]
			compareGolden(t, c.name+".exit", first.exit, update)
			compared[filepath.FromSlash(c.name+".exit")] = true
			for _, format := range goldenFormats {
				o := r.byFormat[format]
				if o.exit != first.exit {
					t.Errorf("--format %s: exit code or stderr differ from --format %s's:\n%s", format, goldenFormats[0], lineDiff(first.exit, o.exit))
				}
				compareGolden(t, c.name+"."+format, o.stdout, update)
				compared[filepath.FromSlash(c.name+"."+format)] = true
			}
			checkCompactJSON(t, r.byFormat["json"].stdout, r.compact)
		})
	}
	if len(compared) == 0 {
		t.Fatal("no golden was compared")
	}
	// Every golden on disk belongs to a case: one left by a removed scenario or command
	// fails until -update deletes it.
	var stale []string
	for _, sub := range []string{"proc", "nodereport"} {
		entries, err := os.ReadDir(filepath.Join(goldenDir, sub))
		if err != nil {
			t.Fatalf("%v (run go test ./cmd -run Golden -update)", err)
		}
		for _, e := range entries {
			if name := filepath.Join(sub, e.Name()); !compared[name] {
				stale = append(stale, name)
			}
		}
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		t.Errorf("goldens no case produces (run go test ./cmd -run Golden -update): %s", strings.Join(stale, ", "))
	}
}

// checkCompactJSON requires the compact JSON of a pipe (one line; a large fd table
// streams) to be the same document as the indented JSON of the golden, and the same exit.
func checkCompactJSON(t *testing.T, indented string, compact goldenOutput) {
	t.Helper()
	if indented == "" && compact.stdout == "" {
		return
	}
	// The placeholders are not JSON: compact the text around them.
	var want bytes.Buffer
	if err := json.Compact(&want, []byte(strings.NewReplacer("<window>", "0", "<n>", "0").Replace(indented))); err != nil {
		t.Errorf("--format json is not JSON: %v", err)
		return
	}
	got := strings.NewReplacer("<window>", "0", "<n>", "0").Replace(compact.stdout)
	if got != want.String() {
		t.Errorf("compact JSON on a pipe differs from the indented JSON on a terminal:\n%s", lineDiff(want.String(), got))
	}
}

// compareGolden compares got with goldenDir/name, or writes it with update. A missing
// golden fails.
func compareGolden(t *testing.T, name, got string, update bool) {
	t.Helper()
	path := filepath.Join(goldenDir, filepath.FromSlash(name))
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v (run go test ./cmd -run Golden -update to create it)", err)
		return
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run go test ./cmd -run Golden -update and review the diff):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff is a unified-diff-like excerpt of want (-) against got (+): the lines between
// their common head and tail, with three lines of context, at most 40 lines of each.
func lineDiff(want, got string) string {
	w, g := splitLines(want), splitLines(got)
	head := 0
	for head < len(w) && head < len(g) && w[head] == g[head] {
		head++
	}
	tail := 0
	for tail < len(w)-head && tail < len(g)-head && w[len(w)-1-tail] == g[len(g)-1-tail] {
		tail++
	}
	const context, most = 3, 40
	var b strings.Builder
	from := max(head-context, 0)
	after := min(tail, context)
	fmt.Fprintf(&b, "@@ -%d,%d +%d,%d @@\n", from+1, len(w)-tail+after-from, from+1, len(g)-tail+after-from)
	line := func(prefix, s string) {
		b.WriteString(prefix + strings.TrimSuffix(s, "\n"))
		if !strings.HasSuffix(s, "\n") {
			b.WriteString(" (no newline at end)")
		}
		b.WriteString("\n")
	}
	for _, s := range w[from:head] {
		line(" ", s)
	}
	for _, part := range []struct {
		prefix string
		lines  []string
	}{{"-", w[head : len(w)-tail]}, {"+", g[head : len(g)-tail]}} {
		for i, s := range part.lines {
			if i == most {
				fmt.Fprintf(&b, "%s... %d more lines\n", part.prefix, len(part.lines)-most)
				break
			}
			line(part.prefix, s)
		}
	}
	for _, s := range w[len(w)-tail : len(w)-tail+after] {
		line(" ", s)
	}
	return b.String()
}

// splitLines splits s after each newline, without the empty string after the last one.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}
