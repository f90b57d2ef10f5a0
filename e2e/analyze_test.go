package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/internal/realnode"
)

// crashReport runs a testdata/node script that dies, with the given report flag, and
// returns the report it wrote.
func crashReport(t *testing.T, script string, flags ...string) string {
	t.Helper()
	dir := t.TempDir()
	args := append(append([]string{}, flags...), "--report-directory="+dir, "--report-filename=report.json",
		filepath.Join(realnode.Root(t), "testdata", "node", script))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, realnode.Node(t), args...)
	if err := cmd.Run(); err == nil {
		t.Fatalf("%s exited 0", script)
	}
	return filepath.Join(dir, "report.json")
}

func TestAnalyzeAnUncaughtExceptionReport(t *testing.T) {
	path := crashReport(t, "crash.js", "--report-uncaught-exception")
	out, stderr, code := run(t, "analyze", path, "--json")
	if code != 1 {
		t.Fatalf("exit %d (want 1: PROCESS_CRASHED is critical): %s", code, stderr)
	}
	s := decode(t, out)
	f := s.find("REFERENCED_HANDLES")
	if f == nil || f.Evidence["count"] != float64(3) {
		t.Fatalf("the server, the client and its accepted socket keep the loop alive: %+v", f)
	}
	if !strings.Contains(out, `"message":"Error: payment service returned garbage"`) || !strings.Contains(out, `"code":"E_GARBAGE"`) {
		t.Fatalf("the crash's error is not in the output: %.600s", out)
	}
	text, _, _ := run(t, "analyze", path)
	if !strings.Contains(text, "crashed: E_GARBAGE: Error: payment service returned garbage") {
		t.Fatalf("text output does not say what crashed it:\n%s", text)
	}
}

func TestAnalyzeAnOutOfMemoryReport(t *testing.T) {
	path := crashReport(t, "oom.js", "--max-old-space-size=24", "--report-on-fatalerror")
	out, stderr, code := run(t, "analyze", path, "--json")
	if code != 1 {
		t.Fatalf("exit %d (want 1: a critical finding): %s", code, stderr)
	}
	s := decode(t, out)
	if f := s.find("HEAP_NEAR_LIMIT"); f == nil || f.Severity != "critical" {
		t.Fatalf("findings %s", s.codes())
	}
}
