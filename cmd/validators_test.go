package cmd

import (
	"strings"
	"testing"
	"time"
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
