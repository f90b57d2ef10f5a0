package report

import (
	"strings"
	"testing"
)

// TestEvidenceCutListSaysHowManyMore: a rule that lists 20 of 1000 fds marks the cut, and
// the text counts the 980 it left out, not only the ones it hides itself.
func TestEvidenceCutListSaysHowManyMore(t *testing.T) {
	r := &renderer{}
	lines := r.evidenceLines(map[string]any{"count": 1000, "fds": seq(10, 20), "fds_total": 1000, "truncated": true,
		"groups":       []map[string]any{{"peer": "a", "count": 1}, {"peer": "b", "count": 1}, {"peer": "c", "count": 1}, {"peer": "d", "count": 1}},
		"groups_total": 300})
	text := strings.Join(lines, "\n")
	for _, want := range []string{"fds: 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, … and 980 more", "… and 297 more", "count=1000"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	for _, unwanted := range []string{"fds_total", "truncated", "groups_total"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("%q shown in\n%s", unwanted, text)
		}
	}
	// An uncut list keeps its own "and N more".
	text = strings.Join(r.evidenceLines(map[string]any{"pids": seq(1, 12)}), "\n")
	if !strings.Contains(text, "… and 2 more") {
		t.Errorf("uncut list: %s", text)
	}
}
