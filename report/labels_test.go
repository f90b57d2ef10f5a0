package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// No label twice in one line: keys that lose their unit suffix to the same name keep it.
func TestEvidenceLabelsOncePerLine(t *testing.T) {
	r := newRenderer(&bytes.Buffer{}, Options{Format: FormatPlain})
	for _, c := range []struct {
		ev   map[string]any
		want string
	}{
		{map[string]any{"used_bytes": 34500000, "used_percent": 45.7, "limit_bytes": 75497472}, "limit=72.0 MiB  used_bytes=32.9 MiB  used_percent=45.7%"},
		{map[string]any{"size_bytes": 1 << 20, "count": 2}, "count=2  size=1.00 MiB"},
		{map[string]any{"bytes": 1 << 20, "bytes_percent": 10.0}, "bytes=1.00 MiB  bytes_percent=10.0%"},
		{map[string]any{"files": []any{map[string]any{"used_bytes": 1, "used": 2}}}, "files: used=2 used_bytes=1 B"},
	} {
		lines := r.evidenceLines(decoded(c.ev))
		got := strings.Join(lines, "\n")
		if got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
		for _, l := range lines {
			seen := map[string]bool{}
			for _, m := range regexp.MustCompile(`(?:^|\s)([a-z_]+)=`).FindAllStringSubmatch(l, -1) {
				if seen[m[1]] {
					t.Errorf("label %q twice in %q", m[1], l)
				}
				seen[m[1]] = true
			}
		}
	}
}
