package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// TestRangeValidators: every range check of a flag runs as the flag is parsed (a urfave/cli
// Validator), so a bad value is a usage error (exit 2, one line naming the flag and the
// range) before anything is read or sent, whatever the pid.
func TestRangeValidators(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	p := itoa(pid)
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"watch", p, "--interval", "50ms"}, "--interval 50ms is out of range: give 100ms to 1h"},
		{[]string{"watch", p, "--interval", "2h"}, "--interval 2h0m0s is out of range: give 100ms to 1h"},
		{[]string{"top", "--interval", "100ms"}, "--interval 100ms is out of range: give 500ms to 1h"},
		{[]string{"top", "--count", "-1"}, "--count must be at least 1"},
		{[]string{"report", p, "--sample", "-1s"}, "--sample -1s is out of range: give 0 (off) up to 1m"},
		{[]string{"ps", "--sample", "2m"}, "--sample 2m0s is out of range"},
		{[]string{"serve", "--sample", "61s"}, "--sample 1m1s is out of range"},
		{[]string{"report", p, "--attach", "--attach-timeout", "10ms"}, "--attach-timeout 10ms is out of range: give 100ms up to 1m"},
		{[]string{"stack", p, "--attach-timeout", "2m"}, "--attach-timeout 2m0s is out of range"},
		{[]string{"profile", p, "--attach-timeout", "1ms"}, "--attach-timeout 1ms is out of range"},
		{[]string{"profile", p, "--duration", "50ms"}, "--duration 50ms is out of range: give 100ms up to 1h"},
		{[]string{"profile", p, "--interval", "10us"}, "--interval 10µs is out of range: give 100us up to 1s"},
		{[]string{"heap", p, "--duration", "3h"}, "--duration 3h0m0s is out of range"},
		{[]string{"heap", p, "--sampling-bytes", "100"}, "--sampling-bytes 100 is out of range: give 1024 up to 67108864"},
		{[]string{"heap", p, "--snapshot", "--snapshot-timeout", "0s"}, "--snapshot-timeout 0s is out of range: give 1s up to 24h"},
		{[]string{"serve", "--scrape-timeout", "6m"}, "--scrape-timeout 6m0s is out of range: give 100ms up to 5m"},
		{[]string{"report", p, "--delay-warning", "0s"}, "--delay-warning must be at least 1ms, got 0s"},
		{[]string{"report", p, "--delay-critical", "-5ms"}, "--delay-critical must be at least 1ms"},
		{[]string{"profile", p, "--top", "-1"}, "--top must be 0 (all) or more"},
		{[]string{"diff", "a", "b", "--min-close-wait-growth", "0"}, "--min-close-wait-growth must be at least 1"},
		{[]string{"report", p, "--stalled-warning", "0"}, "--stalled-warning must be at least 1"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, stderr, code := runCLI(t, root, false, c.args...)
			if code != ExitUsage || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.msg) {
				t.Fatalf("exit %d stdout %q stderr %q, want exit 2 and one line with %q", code, out, stderr, c.msg)
			}
		})
	}
}

// TestValidatorBounds: the bounds themselves are accepted, one step outside is not.
func TestValidatorBounds(t *testing.T) {
	d := durationIn("interval", minWatchInterval, maxWatchInterval, "100ms to 1h")
	for v, ok := range map[time.Duration]bool{
		minWatchInterval: true, maxWatchInterval: true, minWatchInterval - 1: false, maxWatchInterval + 1: false,
	} {
		if err := d(v); (err == nil) != ok {
			t.Errorf("durationIn(%s) = %v", v, err)
		}
	}
	n := intIn("sampling-bytes", 1024, 64<<20, "1024 up to 67108864")
	for v, ok := range map[int]bool{1024: true, 64 << 20: true, 1023: false, 64<<20 + 1: false} {
		if err := n(v); (err == nil) != ok {
			t.Errorf("intIn(%d) = %v", v, err)
		}
	}
	a := durationAtLeast("delay-warning", time.Millisecond)
	if a(time.Millisecond) != nil || a(time.Millisecond-1) == nil {
		t.Error("durationAtLeast bounds")
	}
	// A value in range is used: watch samples at the --interval given.
	root, pid := scenarioRoot(t, "healthy")
	if _, stderr, code := runCLI(t, root, false, "watch", itoa(pid), "--interval", "100ms", "--duration", "250ms"); code != 0 {
		t.Fatalf("in range: exit %d %s", code, stderr)
	}
}

// TestValueValidators: --format, --fail-on and --proc are checked as they are parsed, on
// every command that has them: exit 2 and one line naming the flag and what to give.
func TestValueValidators(t *testing.T) {
	root, pid := scenarioRoot(t, "healthy")
	p := itoa(pid)
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"report", p, "--format", "xml"}, `--format "xml" is not one of table, plain, json, markdown`},
		{[]string{"fds", p, "--format", "yaml"}, `--format "yaml" is not one of`},
		{[]string{"ps", "--format", "csv"}, `--format "csv" is not one of`},
		{[]string{"diff", "a", "b", "--format", "html"}, `--format "html" is not one of`},
		{[]string{"analyze", "x.json", "--format", "x"}, `--format "x" is not one of`},
		{[]string{"detach", p, "--format", "text"}, `--format "text" is not one of`},
		{[]string{"stack", p, "--format", "tsv"}, `--format "tsv" is not one of`},
		{[]string{"report", p, "--fail-on", "error"}, `--fail-on "error" is not one of info, warning, critical, never`},
		{[]string{"report", p, "--fail-on", ""}, `--fail-on "" is not one of`},
		{[]string{"snapshot", p, "-o", "-", "--fail-on", "always"}, `--fail-on "always" is not one of`},
		{[]string{"watch", p, "--fail-on", "fatal"}, `--fail-on "fatal" is not one of`},
		{[]string{"diff", "a", "b", "--fail-on", "all"}, `--fail-on "all" is not one of`},
		{[]string{"analyze", "x.json", "--fail-on", "1"}, `--fail-on "1" is not one of`},
		{[]string{"ps", "--fail-on", "any"}, `--fail-on "any" is not one of`},
		{[]string{"fds", p, "--proc", "/nonexistent"}, "--proc /nonexistent: no such file or directory"},
		{[]string{"detach", p, "--proc", notDir}, "--proc " + notDir + " is not a directory"},
		{[]string{"snapshot", p, "-o", "-", "--proc", t.TempDir()}, "does not look like a proc tree"},
		{[]string{"top", "--proc", "/nonexistent"}, "--proc /nonexistent: no such file or directory"},
		{[]string{"serve", "--proc", notDir}, "is not a directory"},
		// A bad value is refused whatever else is wrong with the command line.
		{[]string{"ps", "extra", "--format", "xml"}, `--format "xml" is not one of`},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, stderr, code := runCLI(t, root, false, c.args...)
			if code != ExitUsage || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.msg) {
				t.Fatalf("exit %d stdout %q stderr %q, want exit 2 and one line with %q", code, out, stderr, c.msg)
			}
		})
	}
}

// TestValueValidatorValues: what each value check accepts, in any case, and what it maps
// to.
func TestValueValidatorValues(t *testing.T) {
	for v, ok := range map[string]bool{"": true, "table": true, "PLAIN": true, "Json": true, "markdown": true, "md": false, "tables": false, " json": false} {
		if err := formatValue(v); (err == nil) != ok {
			t.Errorf("formatValue(%q) = %v", v, err)
		}
	}
	for v, want := range map[string]model.Severity{"never": "", "NEVER": "", "info": model.Severity("info"), "Warning": model.Severity("warning"), "critical": model.Severity("critical")} {
		if err := failOnValue(v); err != nil {
			t.Errorf("failOnValue(%q) = %v", v, err)
		}
		if got := failOnSeverity(v); got != want {
			t.Errorf("failOnSeverity(%q) = %q, want %q", v, got, want)
		}
	}
	for _, v := range []string{"", "none", "warn", "crit"} {
		if failOnValue(v) == nil {
			t.Errorf("failOnValue(%q) accepted", v)
		}
	}
	root, _ := scenarioRoot(t, "healthy")
	for v, ok := range map[string]bool{"": true, root: true, "/nonexistent": false, t.TempDir(): false} {
		if err := procValue(v); (err == nil) != ok {
			t.Errorf("procValue(%q) = %v", v, err)
		}
	}
}
