package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

func TestFormatBytes(t *testing.T) {
	if got := cellBytes(310 * mib); got != "310MiB" {
		t.Errorf("cellBytes = %q", got)
	}
	if got := optBytes(nil); got != "n/a" {
		t.Errorf("optBytes(nil) = %q", got)
	}
}

func TestFormatDuration(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		want string
	}{
		{-time.Second, "0ms"},
		{0, "0ms"},
		{850 * time.Millisecond, "850ms"},
		{1500 * time.Millisecond, "1.5s"},
		{2 * time.Second, "2s"},
		{42 * time.Second, "42s"},
		{12*time.Minute + 30*time.Second, "12m 30s"},
		{2*time.Hour + 5*time.Minute + 59*time.Second, "2h 5m"},
		{76*time.Hour + 12*time.Minute, "3d 4h"},
	} {
		if got := formatDuration(c.in); got != c.want {
			t.Errorf("formatDuration(%v) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := cellDuration(76 * time.Hour); got != "3d4h" {
		t.Errorf("cellDuration = %q", got)
	}
	if d := msDuration(1 << 62); d <= 0 {
		t.Errorf("msDuration overflowed: %v", d)
	}
}

func TestCompressPorts(t *testing.T) {
	for _, c := range []struct {
		in      []int
		maxRuns int
		want    string
	}{
		{nil, 0, ""},
		{[]int{8080}, 0, "8080"},
		{seq(40000, 100), 0, "40000-40099 (100)"},
		{[]int{8080, 8080, 8080}, 0, "8080"},
		{[]int{5, 3, 4, 9, 1}, 0, "1, 3-5 (3), 9"},
		{[]int{1, 3, 5, 7, 9, 10, 11}, 2, "1, 3, … and 5 more"},
	} {
		if got := compressPorts(c.in, c.maxRuns, "…"); got != c.want {
			t.Errorf("compressPorts(%v, %d) = %q, want %q", c.in, c.maxRuns, got, c.want)
		}
	}
}

func TestQuoting(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"node", "node"},
		{"", `""`},
		{"x) Z 1 (y", `"x) Z 1 (y"`},
		{`say "hi"`, `"say \"hi\""`},
		{"a\nb", `a\nb`},
	} {
		if got := quoteIfNeeded(c.in); got != c.want {
			t.Errorf("quoteIfNeeded(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"node", "server.js"}, "node server.js"},
		{[]string{"node", "-e", "console.log(1)"}, "node -e 'console.log(1)'"},
		{[]string{"sh", "-c", "it's"}, `sh -c 'it'\''s'`},
		{[]string{"a", ""}, "a ''"},
		{[]string{"evil\nline"}, `'evil\nline'`},
	} {
		if got := joinArgs(c.in); got != c.want {
			t.Errorf("joinArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := markdownEscape("a|b *c* <d> [e](f) `g` $h$ _i_ ~j~ &k #l"); got != `a\|b \*c\* \<d\> \[e\](f) \`+"`"+`g\`+"`"+` \$h\$ \_i\_ \~j\~ \&k \#l` {
		t.Errorf("markdownEscape = %s", got)
	}
}

func TestWrapAndTruncate(t *testing.T) {
	text := "the quick brown fox jumps over the lazy dog"
	var lines []string
	for _, rg := range wrapRanges(text, 20, 5, 2) {
		lines = append(lines, text[rg[0]:rg[1]])
	}
	if got := strings.Join(lines, "|"); got != "the quick brown|fox jumps over the|lazy dog" {
		t.Errorf("wrap = %q", got)
	}
	if got := wrapRanges(text, 0, 0, 0); len(got) != 1 || got[0] != [2]int{0, len(text)} {
		t.Errorf("no width, wrapped: %v", got)
	}
	if got := wrapRanges("averyveryverylongword short", 10, 0, 0); len(got) != 2 {
		t.Errorf("long word: %v", got)
	}
	if got := wrapRanges("   ", 2, 0, 0); len(got) != 1 {
		t.Errorf("spaces: %v", got)
	}
	if got := truncate("/var/log/some/long/path.log", 12, "…"); got != "/var/log/so…" || displayWidth(got) != 12 {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("日本語のファイル", 7, "…"); displayWidth(got) > 7 {
		t.Errorf("truncate wide = %q (%d columns)", got, displayWidth(got))
	}
	if got := truncate("short", 12, "…"); got != "short" {
		t.Errorf("truncate short = %q", got)
	}
}

func TestEvidenceRendering(t *testing.T) {
	r := &renderer{ascii: true}
	ev := decoded(map[string]any{
		"count":       3,
		"bytes":       int64(3 * mib),
		"hard_limit":  nil,
		"cpu_percent": 99.5,
		"window_ms":   int64(2000),
		"path":        "/tmp/a b",
		"pids":        seq(100, 12),
		"by_type":     map[string]int{"tcp": 9, "file": 2, "pipe": 2},
		"groups":      []map[string]any{{"peer": "a", "n": 1}, {"peer": "b", "n": 2}, {"peer": "c", "n": 3}, {"peer": "d", "n": 4}},
		"none":        []int{},
		"missing":     nil,
	})
	// Bytes JSON cannot carry, as a rule builds them.
	ev["raw"] = evidence.Text("\xff")
	lines := r.evidenceLines(ev)
	want := []string{
		`bytes=3.00 MiB  count=3  cpu=99.5%  hard_limit=unlimited  missing=n/a  path="/tmp/a b"  raw=\xff  window=2s`,
		"by_type: tcp=9 file=2 pipe=2",
		"groups: n=1 peer=a; n=2 peer=b; n=3 peer=c; ... and 1 more",
		"none: none",
		"pids: 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, ... and 2 more",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("evidence:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// Values read back from JSON render the same as values built in Go.
	fromJSON := r.evidenceLines(decoded(map[string]any{"count": float64(3), "pids": []any{float64(1), float64(2)}}))
	fromGo := r.evidenceLines(evidence.Evidence{"count": evidence.Count(3), "pids": evidence.PIDs([]int{1, 2})})
	if strings.Join(fromJSON, "\n") != strings.Join(fromGo, "\n") {
		t.Errorf("JSON-shaped evidence %q differs from Go-shaped %q", fromJSON, fromGo)
	}
	// Verbose lists everything.
	r.verbose = true
	if l := r.evidenceLines(decoded(map[string]any{"pids": seq(1, 30)})); strings.Contains(l[0], "more") {
		t.Errorf("verbose evidence cut: %q", l[0])
	}
}

// FuzzMarkdownEscape: whatever the bytes, markdownEscape (which builds on escape.Display,
// fuzzed in its own package) leaves no unescaped pipe and no newline to break a table row.
func FuzzMarkdownEscape(f *testing.F) {
	for _, seed := range []string{"", "plain", "a\nb", "a|b", "\xff\xfe", "x) Z 1 (y", "`*_[]<>|~&$#"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if md := markdownEscape(s); strings.ContainsAny(strings.ReplaceAll(md, `\|`, ""), "|\n") {
			t.Fatalf("markdownEscape(%q) = %q leaves a pipe or newline", s, md)
		}
	})
}

// FuzzRenderNames puts arbitrary names everywhere a process can choose them and checks that
// every human format stays line-safe: one line per fd in plain output, no raw control byte.
func FuzzRenderNames(f *testing.F) {
	f.Add("x) Z 1 (y", "/tmp/evil\nname", "\xff", "a\x1b[2Jb")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, comm, target, arg, state string) {
		snap := healthySnapshot()
		snap.Process.Comm = comm
		snap.Process.Cmdline = []string{arg, comm}
		snap.FDs.List[5].Target = target
		snap.FDs.List[6].Socket.State = state
		snap.Children[0].Comm = comm
		snap.Findings = []model.Finding{{Code: model.Code(comm), Severity: model.Severity(state), Summary: target, Evidence: evidence.Evidence{comm: evidence.Text(target), "l": evidence.Texts([]string{arg})}, Advice: arg}}
		snap.Warnings = []string{target}
		for _, format := range []Format{FormatTable, FormatPlain, FormatMarkdown} {
			for _, view := range views {
				var buf bytes.Buffer
				opt := Options{Format: format, View: view, Width: 60}
				if err := Render(&buf, snap, opt); err != nil {
					t.Fatal(err)
				}
				checkHuman(t, buf.Bytes(), opt)
				if format == FormatPlain && view == ViewFDs {
					if n := strings.Count(buf.String(), "\n"); n != 3+len(snap.FDs.List) {
						t.Fatalf("plain fds has %d lines for %d fds:\n%s", n, len(snap.FDs.List), buf.String())
					}
				}
			}
		}
	})
}
