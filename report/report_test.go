package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func TestMain(m *testing.M) {
	useNarrowWidths()
	os.Exit(m.Run())
}

// golden compares got with testdata/golden/name.golden, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test ./report -update and review the diff)\n--- got\n%s", path, got)
	}
}

var snapshots = []struct {
	name string
	snap func() *model.Snapshot
}{
	{"healthy", healthySnapshot},
	{"sick", sickSnapshot},
	{"degraded", degradedSnapshot},
	{"hostile", hostileSnapshot},
	{"attached", attachedSnapshot},
	{"crash-report", crashReportSnapshot},
}

var views = []View{ViewReport, ViewFDs, ViewSockets, ViewMem, ViewTree}

// humanVariants are the human formats each view is rendered in.
var humanVariants = []struct {
	name string
	opt  Options
}{
	{"table", Options{Format: FormatTable}},
	{"table-color", Options{Format: FormatTable, Color: true}},
	{"plain", Options{Format: FormatPlain}},
	{"markdown", Options{Format: FormatMarkdown}},
}

func render(t *testing.T, snap *model.Snapshot, opt Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, snap, opt); err != nil {
		t.Fatalf("Render(%+v): %v", opt, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for _, s := range snapshots {
		for _, v := range views {
			for _, variant := range humanVariants {
				name := s.name + "-" + string(v) + "-" + variant.name
				t.Run(name, func(t *testing.T) {
					opt := variant.opt
					opt.View = v
					got := render(t, s.snap(), opt)
					checkHuman(t, got, opt)
					golden(t, name, got)
				})
			}
		}
		t.Run(s.name+"-json", func(t *testing.T) {
			got := render(t, s.snap(), Options{Format: FormatJSON, View: ViewReport})
			golden(t, s.name+"-json", got)
			for _, v := range views {
				if other := render(t, s.snap(), Options{Format: FormatJSON, View: v}); !bytes.Equal(other, got) {
					t.Errorf("JSON of view %s differs from the report view's: JSON is the whole document", v)
				}
			}
		})
	}
}

// TestGoldenNarrow renders for an 80-column terminal: long names shortened, long sentences
// wrapped under their indentation, and verbose output with every list in full.
func TestGoldenNarrow(t *testing.T) {
	for _, c := range []struct {
		name string
		snap func() *model.Snapshot
		opt  Options
	}{
		{"sick-report-table-80", sickSnapshot, Options{Format: FormatTable, View: ViewReport, Width: 80}},
		{"sick-fds-table-80", sickSnapshot, Options{Format: FormatTable, View: ViewFDs, Width: 80}},
		{"hostile-tree-table-40", hostileSnapshot, Options{Format: FormatTable, View: ViewTree, Width: 40}},
		{"sick-report-plain-verbose", sickSnapshot, Options{Format: FormatPlain, View: ViewReport, Verbose: true, Width: 80}},
		{"degraded-report-plain-verbose", degradedSnapshot, Options{Format: FormatPlain, View: ViewReport, Verbose: true}},
		{"sick-fds-plain-verbose", sickSnapshot, Options{Format: FormatPlain, View: ViewFDs, Verbose: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := render(t, c.snap(), c.opt)
			checkHuman(t, got, c.opt)
			if c.opt.Width > 0 && !c.opt.Verbose {
				for i, l := range strings.Split(strings.TrimSuffix(string(got), "\n"), "\n") {
					if w := displayWidth(l); w > c.opt.Width && !strings.ContainsAny(l, "│┌├└") {
						t.Errorf("line %d is %d columns wide, terminal has %d: %q", i+1, w, c.opt.Width, l)
					}
				}
			}
			golden(t, c.name, got)
		})
	}
}

func TestGoldenPS(t *testing.T) {
	for _, variant := range humanVariants {
		t.Run(variant.name, func(t *testing.T) {
			opt := variant.opt
			opt.View = ViewPS
			var buf bytes.Buffer
			if err := RenderPS(&buf, psResult(), opt); err != nil {
				t.Fatal(err)
			}
			checkHuman(t, buf.Bytes(), opt)
			golden(t, "ps-"+variant.name, buf.Bytes())
		})
	}
	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		if err := RenderPS(&buf, psResult(), Options{Format: FormatJSON}); err != nil {
			t.Fatal(err)
		}
		golden(t, "ps-json", buf.Bytes())
		var back model.PSResult
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		if len(back.Processes) != 4 || back.Processes[2].FDsOpen != nil || back.Processes[0].Flags[0] != "CLOSE_WAIT_LEAK" {
			t.Errorf("ps JSON decoded as %+v", back.Processes)
		}
	})
	t.Run("empty", func(t *testing.T) {
		var buf bytes.Buffer
		if err := RenderPS(&buf, &model.PSResult{TakenAt: takenAt}, Options{Format: FormatJSON}); err != nil {
			t.Fatal(err)
		}
		want := "{\n  \"schema\": \"nodeinspect/v1\",\n  \"taken_at\": \"2026-11-22T09:30:00Z\",\n  \"processes\": [],\n  \"warnings\": []\n}\n"
		if buf.String() != want {
			t.Errorf("empty ps JSON = %s", buf.String())
		}
		buf.Reset()
		if err := RenderPS(&buf, &model.PSResult{}, Options{Format: FormatPlain}); err != nil || buf.String() != "no Node.js processes found\n" {
			t.Errorf("empty ps plain = %q, %v", buf.String(), err)
		}
	})
}

// checkHuman asserts what every human rendering owes its reader: no escape code unless
// colour was asked for, no other control character at all, valid UTF-8, one final newline.
func checkHuman(t *testing.T, out []byte, opt Options) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Errorf("output is not valid UTF-8")
	}
	colour := opt.Color && (opt.Format == FormatTable || opt.Format == "")
	if !colour && bytes.ContainsRune(out, 0x1b) {
		t.Errorf("escape code in output without colour")
	}
	if colour && !bytes.Contains(out, []byte(ansiReset)) {
		t.Errorf("colour asked for, none used")
	}
	for _, r := range string(out) {
		if r != '\n' && r != 0x1b && (r < 0x20 || r == 0x7f || r == '\u202e') {
			t.Errorf("control character %U in output", r)
			break
		}
	}
	if !bytes.HasSuffix(out, []byte("\n")) || bytes.HasSuffix(out, []byte("\n\n")) {
		t.Errorf("output must end with exactly one newline")
	}
	if opt.Format == FormatPlain && bytes.ContainsAny(out, "│─├└┌┐┘┬┴┼…→·") {
		t.Errorf("plain output has box drawing or non-ASCII decoration")
	}
}

func TestHealthyReadsCalm(t *testing.T) {
	for _, f := range []Format{FormatTable, FormatPlain, FormatMarkdown} {
		out := string(render(t, healthySnapshot(), Options{Format: f, View: ViewReport}))
		if !strings.Contains(out, "no findings") {
			t.Errorf("%s: healthy report does not say \"no findings\":\n%s", f, out)
		}
		for _, alarm := range []string{"CRITICAL", "WARNING", "BLOCKED", "ZOMBIE", "DELETED", "warnings (see stderr)"} {
			if strings.Contains(out, alarm) {
				t.Errorf("%s: healthy report says %q", f, alarm)
			}
		}
	}
}

func TestFindingsComeFirst(t *testing.T) {
	out := string(render(t, sickSnapshot(), Options{Format: FormatPlain, View: ViewReport}))
	findings := strings.Index(out, "FINDINGS")
	fds := strings.Index(out, "\nfds ")
	if findings < 0 || fds < 0 || findings > fds {
		t.Fatalf("findings must come before the sections (FINDINGS at %d, fds at %d)", findings, fds)
	}
	// Worst first, in the given order, each with its advice.
	last := -1
	for _, f := range sickSnapshot().Findings {
		i := strings.Index(out[last+1:], string(f.Code))
		if i < 0 {
			t.Fatalf("finding %s missing or out of order", f.Code)
		}
		last += 1 + i
	}
	if n := strings.Count(out, "-> "); n != len(sickSnapshot().Findings) {
		t.Errorf("%d advice lines, want one per finding (%d)", n, len(sickSnapshot().Findings))
	}
	if strings.Contains(out, "warning (see stderr)") {
		t.Errorf("plain output, which scripts parse, ends with a warnings note")
	}
	table := string(render(t, sickSnapshot(), Options{Format: FormatTable, View: ViewReport}))
	if !strings.HasSuffix(table, "\n\n1 warning (see stderr)\n") {
		t.Errorf("warnings are not counted at the end of the table format")
	}
	if strings.Contains(out+table, "sampled from wchan") {
		t.Errorf("warnings are repeated on stdout without Verbose")
	}
	verbose := string(render(t, sickSnapshot(), Options{Format: FormatPlain, View: ViewReport, Verbose: true}))
	if !strings.HasSuffix(verbose, "warnings:\n  - event loop: main thread sampled from wchan (syscall unreadable)\n") {
		t.Errorf("verbose output does not list the warnings at the end")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, s := range snapshots {
		t.Run(s.name, func(t *testing.T) {
			first := render(t, s.snap(), Options{Format: FormatJSON})
			var back model.Snapshot
			if err := json.Unmarshal(first, &back); err != nil {
				t.Fatal(err)
			}
			second := render(t, &back, Options{Format: FormatJSON})
			if s.name == "hostile" {
				// encoding/json writes invalid UTF-8 as \ufffd (lossy); from the second
				// pass on, the document is stable.
				var again model.Snapshot
				if err := json.Unmarshal(second, &again); err != nil {
					t.Fatal(err)
				}
				first, second = second, render(t, &again, Options{Format: FormatJSON})
			}
			if !bytes.Equal(first, second) {
				t.Errorf("JSON does not round-trip:\n%s\n---\n%s", first, second)
			}
			if !bytes.HasSuffix(first, []byte("}\n")) || !bytes.HasPrefix(first, []byte("{\n  \"schema\": \"nodeinspect/v1\",\n")) {
				t.Errorf("JSON must be a two-space indented object with a final newline")
			}
		})
	}
}

func TestJSONNullSectionsAndEmptyLists(t *testing.T) {
	snap := degradedSnapshot()
	out := render(t, snap, Options{Format: FormatJSON})
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"limits", "fds", "sockets", "children", "orphans", "event_loop"} {
		v, ok := doc[key]
		if !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", key, v, ok)
		}
	}
	if f, ok := doc["findings"].([]any); !ok || len(f) != 0 {
		t.Errorf("findings = %#v, want []", doc["findings"])
	}
	if w, ok := doc["warnings"].([]any); !ok || len(w) != 3 {
		t.Errorf("warnings = %#v, want 3 sentences", doc["warnings"])
	}
	mem := doc["memory"].(map[string]any)
	for _, key := range []string{"pss_bytes", "swap_bytes", "shmem_bytes", "heap"} {
		if v, ok := mem[key]; !ok || v != nil {
			t.Errorf("memory.%s = %v, want null", key, v)
		}
	}
	proc := doc["process"].(map[string]any)
	if c, ok := proc["cmdline"].([]any); !ok || len(c) != 0 {
		t.Errorf("process.cmdline = %#v, want []", proc["cmdline"])
	}
	if proc["exe"] != nil || proc["started_at"] != nil {
		t.Errorf("exe and started_at must be null when unknown")
	}
	// The caller's snapshot is not modified.
	if snap.Findings != nil || snap.Process.Cmdline != nil {
		t.Errorf("Render modified the snapshot")
	}

	// Collected but empty lists stay [] all the way down.
	empty := &model.Snapshot{
		TakenAt:   takenAt,
		FDs:       &model.FDTable{},
		Sockets:   &model.SocketSummary{ByPeer: []model.PeerGroup{{Remote: "10.0.0.1", State: "ESTABLISHED", Count: 1}}},
		Children:  []*model.Child{{PID: 2, Children: nil}},
		Orphans:   []model.Orphan{},
		EventLoop: &model.EventLoop{Verdict: "unknown"},
		Findings:  []model.Finding{{Code: "X", Severity: model.SeverityInfo}},
	}
	out = render(t, empty, Options{Format: FormatJSON})
	for _, want := range []string{`"schema": "nodeinspect/v1"`, `"by_type": {}`, `"list": []`, `"by_state": {}`, `"local_ports": []`, `"children": []`, `"orphans": []`, `"seen": {}`, `"evidence": {}`, `"cmdline": []`, `"warnings": []`, `"process": null`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("JSON lacks %s:\n%s", want, out)
		}
	}
}

func TestHostileNamesCannotBreakRows(t *testing.T) {
	snap := hostileSnapshot()
	out := string(render(t, snap, Options{Format: FormatPlain, View: ViewFDs}))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// title, blank, header, one line per fd
	if want := 3 + len(snap.FDs.List); len(lines) != want {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), want, out)
	}
	for _, l := range lines[3 : 3+len(snap.FDs.List)] {
		f := strings.Fields(l)
		if len(f) < 7 {
			t.Errorf("row has %d fields, want at least 7 (FD TYPE STATE LOCAL REMOTE SIZE TARGET): %q", len(f), l)
		}
	}
	for _, want := range []string{`/tmp/evil\nname.txt`, `/tmp/bad-\xff\xfe-utf8`, `/tmp/\x1b[2J\x1b[31mclear`, `/tmp/\u202egnp.exe`, `@abstract\nname`} {
		if !strings.Contains(out, want) {
			t.Errorf("fds output lacks the escaped name %s", want)
		}
	}
	report := string(render(t, snap, Options{Format: FormatPlain, View: ViewReport}))
	if !strings.Contains(report, `comm "x) Z 1 (y"`) {
		t.Errorf("the comm is not quoted as one name:\n%s", report)
	}
	md := string(render(t, snap, Options{Format: FormatMarkdown, View: ViewFDs}))
	for _, bad := range []string{"<img", "<b>", "<script>", "[l](http", "](http"} {
		if strings.Contains(strings.ReplaceAll(md, `\]`, ""), bad) {
			t.Errorf("markdown carries raw %q", bad)
		}
	}
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "| ") && strings.Count(l, "|")-strings.Count(l, `\|`) != 8 {
			t.Errorf("markdown row does not have 7 cells: %q", l)
		}
	}
}

func TestPlainColumnsAreStable(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderPS(&buf, psResult(), Options{Format: FormatPlain}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	header := strings.Fields(lines[0])
	if strings.Join(header, " ") != "PID PPID USER UPTIME RSS FDS/LIMIT CLOSE_WAIT ZOMBIES FLAGS LOOP COMMAND" {
		t.Fatalf("ps header = %q", lines[0])
	}
	for _, l := range lines[1:5] {
		f := strings.Fields(l)
		if len(f) < len(header) {
			t.Errorf("row has %d fields, want at least %d: %q", len(f), len(header), l)
		}
	}
}

func TestNullShownAsNotAvailable(t *testing.T) {
	out := string(render(t, degradedSnapshot(), Options{Format: FormatPlain, View: ViewMem}))
	for _, row := range []string{"pss", "shmem", "swap"} {
		found := false
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) >= 3 && f[0] == row {
				found = true
				if f[1] != "n/a" || f[2] != "n/a" {
					t.Errorf("%s row = %q, want n/a", row, l)
				}
			}
		}
		if !found {
			t.Errorf("no %s row in:\n%s", row, out)
		}
	}
}

// countingWriter counts Write calls.
type countingWriter struct {
	calls int
	bytes.Buffer
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.calls++
	return w.Buffer.Write(p)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWritesOnce(t *testing.T) {
	for _, f := range []Format{FormatTable, FormatPlain, FormatJSON, FormatMarkdown} {
		for _, v := range views {
			w := &countingWriter{}
			if err := Render(w, sickSnapshot(), Options{Format: f, View: v}); err != nil {
				t.Fatal(err)
			}
			if w.calls != 1 {
				t.Errorf("%s %s: %d writes, want 1", f, v, w.calls)
			}
		}
	}
	if err := Render(failingWriter{}, healthySnapshot(), Options{}); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("write error = %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	var buf bytes.Buffer
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Format: "yaml"}, `unknown format "yaml"`},
		{Options{Format: FormatTable, View: "heap"}, `unknown view "heap"`},
		{Options{Format: FormatMarkdown, View: "heap"}, `unknown view "heap"`},
		{Options{Format: FormatPlain, View: ViewPS}, "RenderPS"},
	} {
		err := Render(&buf, healthySnapshot(), c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Render(%+v) = %v, want an error with %q", c.opt, err, c.want)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("a failed render wrote %q", buf.String())
	}
	if err := Render(&buf, nil, Options{}); err == nil {
		t.Errorf("nil snapshot rendered")
	}
	if err := RenderPS(&buf, nil, Options{}); err == nil {
		t.Errorf("nil ps result rendered")
	}
	if err := RenderPS(&buf, psResult(), Options{View: ViewFDs}); err == nil {
		t.Errorf("ps rendered with the fds view")
	}
	if err := RenderPS(&buf, psResult(), Options{Format: "xml"}); err == nil {
		t.Errorf("ps rendered as xml")
	}
	// Defaults: table format, report view.
	if err := Render(&buf, healthySnapshot(), Options{}); err != nil || !strings.Contains(buf.String(), "no findings") {
		t.Errorf("zero Options: %v", err)
	}
}

// TestEmptyAndOddSnapshots renders shapes the collector never builds but a saved or
// hand-edited snapshot might hold: no crash, no control characters.
func TestEmptyAndOddSnapshots(t *testing.T) {
	loop := &model.Child{PID: 9}
	loop.Children = []*model.Child{loop, nil}
	odd := []*model.Snapshot{
		{},
		{Process: &model.Process{PID: -1, State: "?"}, FDs: &model.FDTable{Open: -3}, Limits: &model.Limits{OpenFilesSoft: u64(0)},
			Sockets: &model.SocketSummary{}, Memory: &model.Memory{Heap: &model.Heap{}}, Children: []*model.Child{loop, nil},
			EventLoop: &model.EventLoop{WindowMS: -5, Seen: map[string]int{"\n": 1}, CPUPercent: f64(-1)},
			Findings:  []model.Finding{{}, {Code: "Y", Severity: "bogus", Evidence: decoded(map[string]any{"x": []any{}, "y": map[string]any{}, "z_ms": -1, "q_bytes": 0.5})}}},
		{Findings: []model.Finding{{Code: "C", Evidence: evidence.Evidence{"c": evidence.Number(math.Inf(1)), "n": evidence.Count(1)}}}},
	}
	for i, snap := range odd {
		for _, f := range []Format{FormatTable, FormatPlain, FormatMarkdown} {
			for _, v := range views {
				opt := Options{Format: f, View: v, Width: 30, Color: true}
				checkHuman(t, render(t, snap, opt), opt)
			}
		}
		switch i {
		case 1:
			// A cycle in the tree cannot be marshalled as it is: the JSON copy drops it.
			out := render(t, snap, Options{Format: FormatJSON})
			if !json.Valid(out) {
				t.Errorf("invalid JSON: %s", out)
			}
		case 2:
			// Evidence JSON cannot carry is an error, not a panic or half a document.
			var buf bytes.Buffer
			if err := Render(&buf, snap, Options{Format: FormatJSON}); err == nil || buf.Len() != 0 {
				t.Errorf("unmarshallable evidence: err %v, wrote %q", err, buf.String())
			}
		}
	}
}

func TestViewsAreDistinct(t *testing.T) {
	// The fds view shows every fd; the report view only counts them.
	snap := sickSnapshot()
	fds := string(render(t, snap, Options{Format: FormatPlain, View: ViewFDs}))
	report := string(render(t, snap, Options{Format: FormatPlain, View: ViewReport}))
	if !strings.Contains(fds, "socket:[71099]") || strings.Contains(report, "socket:[71099]") {
		t.Errorf("fd 109 belongs in the fds view only")
	}
	if !reflect.DeepEqual(snap, sickSnapshot()) {
		t.Errorf("rendering modified the snapshot")
	}
}
