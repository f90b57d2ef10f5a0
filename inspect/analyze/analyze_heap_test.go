package analyze

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/heaplimit"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/nodereport"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

func parseFixture(t *testing.T, name string, edit func(string) string) *model.Snapshot {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "nodereport", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if edit != nil {
		text = edit(text)
	}
	r, err := nodereport.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return FromNodeReport(r, name, rules.DefaultThresholds())
}

// An OOM report under --max-old-space-size=24: the old generation's limit comes from the
// report's command line, its use from heapSpaces.
func TestAnalyzeOOMReportOldSpace(t *testing.T) {
	s := parseFixture(t, "v4-oom.json", nil)
	h := s.Memory.Heap
	if h.OldSpaceLimitBytes == nil || *h.OldSpaceLimitBytes != 24*mib || h.OldSpaceLimitFrom == nil || *h.OldSpaceLimitFrom != heaplimit.LimitFromFlag {
		t.Fatalf("old generation limit %v from %v", h.OldSpaceLimitBytes, h.OldSpaceLimitFrom)
	}
	// old_space 33618000 + code_space 15680 + large_object_space 872576 (fixture).
	if h.OldSpaceUsedBytes == nil || *h.OldSpaceUsedBytes != 33618000+15680+872576 {
		t.Fatalf("old generation used %v", h.OldSpaceUsedBytes)
	}
	if codes(s.Findings) != "HEAP_NEAR_LIMIT:critical,PROCESS_CRASHED:critical" {
		t.Fatalf("findings %s", codes(s.Findings))
	}
	// The OOM explains the crash.
	for _, f := range s.Findings {
		if f.Code == "PROCESS_CRASHED" && (len(f.Related) != 1 || !strings.Contains(f.Summary, "the V8 heap ran out")) {
			t.Errorf("PROCESS_CRASHED not related to the heap: %+v", f)
		}
	}
	// NODE_OPTIONS in the report's environment counts too.
	s = parseFixture(t, "v4-oom.json", func(r string) string {
		r = strings.Replace(r, `"--max-old-space-size=24",`, "", 1)
		return strings.Replace(r, `"environmentVariables": {`, `"environmentVariables": {"NODE_OPTIONS": "--max-old-space-size=32",`, 1)
	})
	if h := s.Memory.Heap; h.OldSpaceLimitBytes == nil || *h.OldSpaceLimitBytes != 32*mib {
		t.Fatalf("old generation limit from NODE_OPTIONS: %v", h.OldSpaceLimitBytes)
	}
}

// A report lists no files: deleted counts are null, and without a handle holding an fd
// the open count is null too (not 0).
func TestAnalyzeFDsNullWhenNotInTheReport(t *testing.T) {
	s := parseFixture(t, "v4-crash.json", nil)
	if s.FDs == nil || s.FDs.Open == 0 || s.FDs.Deleted != nil || s.FDs.DeletedBytes != nil {
		t.Fatalf("fds from handles: %+v", s.FDs)
	}
	s = parseFixture(t, "v4-crash.json", func(r string) string {
		i := strings.Index(r, `"libuv": [`)
		j := strings.Index(r[i:], "],") + i
		return r[:i] + `"libuv": [` + r[j:]
	})
	if s.FDs != nil {
		t.Fatalf("fds %+v from a report without handles", s.FDs)
	}
	if !strings.Contains(strings.Join(s.Warnings, "|"), "open fds unknown") {
		t.Fatalf("no warning: %q", s.Warnings)
	}
}
