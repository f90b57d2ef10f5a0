package cmd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
)

var updateEvidence = flag.Bool("update-evidence", false, "rewrite testdata/evidence-baseline")

// TestEvidenceBaseline renders every fake scenario (live and from a saved snapshot), the
// diff of the healthy scenario with each other one, and analyze of every Node report
// fixture, in JSON and the human formats, and compares them byte for byte with the files
// of testdata/evidence-baseline: the documents scripts read never change by accident.
func TestEvidenceBaseline(t *testing.T) {
	dir := t.TempDir()
	check := func(name, out string) {
		t.Helper()
		if out == "" && !strings.Contains(name, "not-a-report") && !strings.Contains(name, "truncated") {
			t.Errorf("%s: no output", name)
		}
		path := filepath.Join("testdata", "evidence-baseline", name)
		if *updateEvidence {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./cmd -run TestEvidenceBaseline -update-evidence)", err)
		}
		if !bytes.Equal([]byte(out), want) {
			t.Errorf("%s differs\n--- got\n%s\n--- want\n%s", path, out, want)
		}
	}
	formats := []string{"json", "plain", "markdown", "table"}
	for _, s := range fakeproc.Scenarios {
		root, pid := scenarioRoot(t, s.Name)
		snap := filepath.Join(dir, s.Name+".json")
		if _, stderr, code := runCLI(t, root, false, "snapshot", itoa(pid), "-o", snap, "--sample", "0", "--any"); code > 1 {
			t.Fatalf("snapshot %s: exit %d: %s", s.Name, code, stderr)
		}
		for _, format := range formats {
			out, _, _ := runCLI(t, root, format == "table", "report", itoa(pid), "--format", format, "--sample", "0", "--any")
			check(s.Name+"-live."+format, out)
			out, _, _ = runCLI(t, root, format == "table", "analyze", snap, "--format", format)
			check(s.Name+"-saved."+format, strings.ReplaceAll(out, dir, "DIR"))
		}
	}
	for _, s := range fakeproc.Scenarios {
		for _, format := range formats[:3] {
			out, _, _ := runCLI(t, "/nonexistent", false, "diff", filepath.Join(dir, "healthy.json"), filepath.Join(dir, s.Name+".json"), "--format", format)
			check("diff-healthy-"+s.Name+"."+format, out)
		}
	}
	reports, _ := filepath.Glob(reportFixture("*.json"))
	for _, r := range reports {
		name := strings.TrimSuffix(filepath.Base(r), ".json")
		for _, format := range formats[:3] {
			out, _, _ := runCLI(t, "/nonexistent", false, "analyze", r, "--format", format)
			check("analyze-"+name+"."+format, out)
		}
	}
}
