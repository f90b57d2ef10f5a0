package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func reportFixture(name string) string {
	return filepath.Join("..", "inspect", "nodereport", "testdata", name)
}

func TestAnalyzeNodeReports(t *testing.T) {
	for _, c := range []struct {
		file, failOn string
		code         int
		codes        string
	}{
		// Every fixture was written as its process died: PROCESS_CRASHED, critical.
		{"v4-crash.json", "", 1, "PROCESS_CRASHED,REFERENCED_HANDLES"},
		{"v4-crash.json", "never", 0, "PROCESS_CRASHED,REFERENCED_HANDLES"},
		{"v4-oom.json", "", 1, "HEAP_NEAR_LIMIT,PROCESS_CRASHED"},
		{"v1.json", "warning", 1, "PROCESS_CRASHED,REFERENCED_HANDLES"},
		{"v5.json", "", 1, "PROCESS_CRASHED,REFERENCED_HANDLES"},
		{"unknown-v9.json", "", 1, "PROCESS_CRASHED,REFERENCED_HANDLES"},
	} {
		t.Run(c.file+c.failOn, func(t *testing.T) {
			args := []string{"analyze", reportFixture(c.file), "--json"}
			if c.failOn != "" {
				args = append(args, "--fail-on", c.failOn)
			}
			out, stderr, code := runCLI(t, "/nonexistent", false, args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s", code, c.code, stderr)
			}
			var doc struct {
				Schema string `json:"schema"`
				Source string `json:"source"`
				Node   struct {
					Version string `json:"version"`
					Error   *struct {
						Message string `json:"message"`
					} `json:"error"`
				} `json:"node"`
				Findings []struct {
					Code string `json:"code"`
				} `json:"findings"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var codes []string
			for _, f := range doc.Findings {
				codes = append(codes, f.Code)
			}
			if doc.Schema != "nodeinspect/v1" || doc.Source != "report" || doc.Node.Error == nil || strings.Join(codes, ",") != c.codes {
				t.Fatalf("schema %q source %q error %+v findings %v", doc.Schema, doc.Source, doc.Node.Error, codes)
			}
		})
	}
}

func TestAnalyzeExternalMemoryFromAReport(t *testing.T) {
	data, err := os.ReadFile(reportFixture("v4-crash.json"))
	if err != nil {
		t.Fatal(err)
	}
	// 600 MiB resident, a 4.5 MiB heap: Buffers or native memory.
	doc := strings.Replace(string(data), `"rss": 46112768`, `"rss": 629145600`, 1)
	path := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCLI(t, "/nonexistent", false, "analyze", path, "--fail-on", "warning")
	if code != 1 || !strings.Contains(out, "EXTERNAL_MEMORY") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.json")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"header":{`)
	if err := f.Truncate(200 << 20); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	for _, c := range []struct {
		name, path, says string
	}{
		{"truncated", reportFixture("truncated.json"), "cut short"},
		{"not a report", reportFixture("not-a-report.json"), "not a Node.js diagnostic report"},
		{"200 MB", huge, "200 MiB"},
		{"missing", filepath.Join(dir, "nope.json"), "no such file"},
		{"directory", dir, "is a directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, code := runCLI(t, "/nonexistent", false, "analyze", c.path)
			if code != 2 || out != "" || !strings.Contains(stderr, c.says) || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
			}
		})
	}
	if _, stderr, code := runCLI(t, "/nonexistent", false, "analyze"); code != 2 || !strings.Contains(stderr, "needs a file") {
		t.Fatalf("no file: exit %d %q", code, stderr)
	}
}

func TestAnalyzeASavedSnapshot(t *testing.T) {
	root, pid := scenarioRoot(t, "fd-leak")
	path := filepath.Join(t.TempDir(), "snap.json")
	if _, stderr, code := runCLI(t, root, false, "snapshot", itoa(pid), "-o", path, "--sample", "0"); code > 1 {
		t.Fatalf("snapshot: exit %d %s", code, stderr)
	}
	out, stderr, code := runCLI(t, "/nonexistent", false, "analyze", path, "--json", "--fail-on", "warning")
	if code != 1 || !strings.Contains(out, "EMFILE_RISK") || !strings.Contains(out, `"source":"snapshot"`) {
		t.Fatalf("exit %d stderr %q\n%.400s", code, stderr, out)
	}
	// Thresholds apply again: a higher EMFILE threshold clears it.
	out, _, code = runCLI(t, "/nonexistent", false, "analyze", path, "--json", "--fail-on", "warning", "--emfile-warning", "99.9", "--emfile-critical", "99.95")
	if strings.Contains(out, "EMFILE_RISK") {
		t.Fatalf("exit %d: EMFILE_RISK despite the raised thresholds", code)
	}
}

func TestAnalyzeThresholdFlags(t *testing.T) {
	path := reportFixture("v4-crash.json")
	if out, _, _ := runCLI(t, "/nonexistent", false, "analyze", path); strings.Contains(out, "EXTERNAL_MEMORY") {
		t.Fatal("44 MiB of RSS is not external memory by default")
	}
	out, _, code := runCLI(t, "/nonexistent", false, "analyze", path, "--external-ratio", "2", "--external-min-mib", "1", "--fail-on", "warning")
	if code != 1 || !strings.Contains(out, "EXTERNAL_MEMORY") {
		t.Fatalf("lowered thresholds: exit %d\n%s", code, out)
	}
	out, _, _ = runCLI(t, "/nonexistent", false, "analyze", reportFixture("v4-oom.json"), "--heap-warning", "40", "--heap-critical", "99")
	if !strings.Contains(out, "HEAP_NEAR_LIMIT") {
		t.Fatalf("heap thresholds:\n%s", out)
	}
	if _, stderr, code := runCLI(t, "/nonexistent", false, "analyze", path, "--heap-warning", "0"); code != 2 {
		t.Fatalf("zero threshold: exit %d %s", code, stderr)
	}
}

// EMFILE_RISK from a report: the fd-holding handles against userLimits.open_files.
func TestAnalyzeEMFILEFromAReport(t *testing.T) {
	data, err := os.ReadFile(reportFixture("v4-crash.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["userLimits"].(map[string]any)["open_files"] = map[string]any{"soft": 3, "hard": 4096}
	changed, _ := json.Marshal(doc)
	path := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCLI(t, "/nonexistent", false, "analyze", path, "--json")
	if code != 1 || !strings.Contains(out, `"code":"EMFILE_RISK","severity":"critical"`) || !strings.Contains(out, `"soft_limit":3`) {
		t.Fatalf("exit %d:\n%.800s", code, out)
	}
}

// runCLIIn is runCLI with standard input.
func runCLIIn(t *testing.T, in string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), append([]string{"nodeinspect"}, args...), Deps{
		Proc: "/nonexistent", In: strings.NewReader(in), Out: &out, Err: &errb, Now: func() time.Time { return fixedNow },
		Getenv: func(string) string { return "" }, UserName: func(uid int) string { return "app" },
	})
	return out.String(), errb.String(), code
}

func TestAnalyzeSeveralFiles(t *testing.T) {
	crash, oom := reportFixture("v4-crash.json"), reportFixture("v4-oom.json")
	t.Run("text: each file labelled, worst exit code", func(t *testing.T) {
		out, stderr, code := runCLI(t, "/nonexistent", false, "analyze", crash, oom)
		if code != ExitFindings {
			t.Fatalf("exit %d, want 1 (the oom report is critical): %s", code, stderr)
		}
		i, j := strings.Index(out, "==> "+crash+" <=="), strings.Index(out, "==> "+oom+" <==")
		if i != 0 || j < 0 || !strings.Contains(out[j:], "HEAP_NEAR_LIMIT") || strings.Contains(out[:j], "HEAP_NEAR_LIMIT") {
			t.Fatalf("files not labelled, or findings under the wrong file:\n%s", out)
		}
	})
	t.Run("json: one document listing the files", func(t *testing.T) {
		out, stderr, code := runCLI(t, "/nonexistent", false, "analyze", "--json", crash, oom)
		if code != ExitFindings || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Fatalf("exit %d, %d lines: %s", code, strings.Count(out, "\n"), stderr)
		}
		var doc struct {
			Schema   string `json:"schema"`
			ExitCode int    `json:"exit_code"`
			Files    []struct {
				File     string  `json:"file"`
				ExitCode int     `json:"exit_code"`
				Error    *string `json:"error"`
				Report   *struct {
					Schema   string `json:"schema"`
					Findings []struct {
						Code string `json:"code"`
					} `json:"findings"`
				} `json:"report"`
			} `json:"files"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Schema != "nodeinspect/v1" || doc.ExitCode != 1 || len(doc.Files) != 2 || doc.Files[0].File != crash || doc.Files[0].ExitCode != 1 ||
			doc.Files[1].ExitCode != 1 || doc.Files[1].Report == nil || doc.Files[1].Report.Findings[0].Code != "HEAP_NEAR_LIMIT" || doc.Files[1].Error != nil {
			t.Fatalf("%+v", doc)
		}
	})
	t.Run("one file keeps the single document", func(t *testing.T) {
		one, _, _ := runCLI(t, "/nonexistent", false, "analyze", "--json", oom)
		if strings.Contains(one, `"files"`) || !strings.HasPrefix(one, `{"schema":"nodeinspect/v1"`) {
			t.Fatalf("single-file JSON changed: %.200s", one)
		}
	})
	t.Run("an unreadable file does not hide the others; exit 2 wins", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "gone.json")
		out, stderr, code := runCLI(t, "/nonexistent", false, "analyze", oom, missing, "--fail-on", "never")
		if code != ExitUsage || !strings.Contains(out, "HEAP_NEAR_LIMIT") || !strings.Contains(out, "==> "+missing+" <==") {
			t.Fatalf("exit %d\n%s", code, out)
		}
		if !strings.Contains(stderr, "gone.json: no such file") || !strings.Contains(stderr, "1 of 2 files could not be analysed") {
			t.Fatalf("stderr %q", stderr)
		}
		out, _, code = runCLI(t, "/nonexistent", false, "analyze", "--json", missing, crash)
		if code != ExitUsage || !strings.Contains(out, `"error":"cannot read`) || !strings.Contains(out, `"report":null`) {
			t.Fatalf("exit %d %s", code, out)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		data, err := os.ReadFile(oom)
		if err != nil {
			t.Fatal(err)
		}
		out, stderr, code := runCLIIn(t, string(data), "analyze", "-", "--json")
		if code != ExitFindings || !strings.Contains(out, `"source_file":"(stdin)"`) || !strings.Contains(out, "HEAP_NEAR_LIMIT") {
			t.Fatalf("exit %d %s\n%.300s", code, stderr, out)
		}
		out, _, code = runCLIIn(t, string(data), "analyze", crash, "-")
		if code != ExitFindings || !strings.Contains(out, "==> (stdin) <==") {
			t.Fatalf("exit %d\n%s", code, out)
		}
		if _, stderr, code := runCLIIn(t, "not json", "analyze", "-"); code != ExitUsage || !strings.Contains(stderr, "(stdin)") {
			t.Fatalf("garbage on stdin: exit %d %q", code, stderr)
		}
		if _, stderr, code := runCLIIn(t, "", "analyze", "-", "-"); code != ExitUsage || !strings.Contains(stderr, "once") {
			t.Fatalf("- twice: exit %d %q", code, stderr)
		}
	})
}
