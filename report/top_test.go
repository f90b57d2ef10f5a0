package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

func topRows() []TopRow {
	u := func(v uint64) *uint64 { return &v }
	i := func(v int) *int { return &v }
	f := func(v float64) *float64 { return &v }
	return []TopRow{
		{PID: 4400, Service: "/srv/api/server.js", CPUPercent: f(12.5), RSSBytes: u(64 << 20), FDsOpen: i(140), FDLimit: u(1024), CloseWait: i(120), Stalled: i(0), Loop: "turning", Flags: []model.Code{"CLOSE_WAIT_LEAK"}, Severity: model.SeverityCritical},
		{PID: 4500, Service: "billing", Container: "0123456789ab", RSSBytes: u(40 << 20), FDsOpen: i(12), FDLimit: u(1024), CloseWait: i(0), Zombies: 3, Loop: "blocked", Flags: []model.Code{"ZOMBIE_CHILDREN", "EVENT_LOOP_BLOCKED"}, Severity: model.SeverityWarning},
		{PID: 4600, Service: "/home/deploy/apps/very/long/path/to/the/service/dist/worker.js", RSSBytes: nil, Loop: "unknown"},
	}
}

func renderTop(t *testing.T, f TopFrame) []string {
	t.Helper()
	useNarrowWidths()
	var buf bytes.Buffer
	if err := RenderTop(&buf, f); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\x1b[H") || !strings.HasSuffix(out, "\x1b[J") {
		t.Fatalf("frame must home the cursor and clear the rest: %q", out)
	}
	out = strings.TrimSuffix(strings.TrimPrefix(out, "\x1b[H"), "\x1b[J")
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		lines = append(lines, strings.TrimSuffix(l, "\x1b[K"))
	}
	return lines
}

func TestTopFrameFitsEveryWidth(t *testing.T) {
	for _, width := range []int{160, 100, 80, 64, 40, 20} {
		lines := renderTop(t, TopFrame{TakenAt: time.Unix(0, 0), Rows: topRows(), Sort: "worst", Width: width, Height: 30})
		for _, l := range lines {
			if displayWidth(l) > width {
				t.Errorf("width %d: line of %d columns: %q", width, displayWidth(l), l)
			}
		}
		if width >= 64 {
			body := strings.Join(lines, "\n")
			if !strings.Contains(body, "4400") || !strings.Contains(body, "4500") || !strings.Contains(body, "…") {
				t.Errorf("width %d: rows or the cut path missing:\n%s", width, body)
			}
		}
	}
	wide := strings.Join(renderTop(t, TopFrame{Rows: topRows(), Width: 160, Height: 30}), "\n")
	for _, want := range []string{"CONTAINER", "0123456789ab", "STALLED", "LOOP", "blocked", "CLOSE_WAIT_LEAK", "ZOMBIE_CHILDREN,EVENT_LOOP_BLOCKED", "12.5", "140/1024"} {
		if !strings.Contains(wide, want) {
			t.Errorf("wide frame lacks %q:\n%s", want, wide)
		}
	}
	narrow := strings.Join(renderTop(t, TopFrame{Rows: topRows(), Width: 64, Height: 30}), "\n")
	if strings.Contains(narrow, "STALLED") || strings.Contains(narrow, "LOOP") || !strings.Contains(narrow, " CW") {
		t.Errorf("narrow frame keeps wide columns:\n%s", narrow)
	}
}

func TestTopFrameFitsTheHeight(t *testing.T) {
	var rows []TopRow
	for i := 0; i < 50; i++ {
		rows = append(rows, TopRow{PID: 1000 + i, Service: "svc"})
	}
	lines := renderTop(t, TopFrame{Rows: rows, Width: 100, Height: 12})
	// One line short of the height, so the last line feed never scrolls the screen.
	if len(lines) != 11 {
		t.Fatalf("%d lines on a 12-line terminal:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "more") {
		t.Fatalf("no note of the hidden rows: %q", last)
	}
}

func TestTopColorAndSelection(t *testing.T) {
	plain := strings.Join(renderTop(t, TopFrame{Rows: topRows(), Width: 120, Height: 20, Selected: 4500}), "\n")
	if strings.Contains(plain, "\x1b[3") || strings.Contains(plain, "\x1b[7m") || strings.Contains(plain, "\x1b[1") {
		t.Fatalf("escape codes without colour:\n%q", plain)
	}
	if !strings.Contains(plain, "> ") || !strings.Contains(plain, "4500") {
		t.Fatalf("selection not marked:\n%s", plain)
	}
	colored := strings.Join(renderTop(t, TopFrame{Rows: topRows(), Width: 120, Height: 20, Color: true}), "\n")
	if !strings.Contains(colored, "\x1b[31m") || !strings.Contains(colored, "\x1b[33m") {
		t.Fatalf("no severity colours:\n%q", colored)
	}
}

func TestTruncateLeftKeepsTheEnd(t *testing.T) {
	useNarrowWidths()
	cases := []struct {
		in    string
		width int
		want  string
	}{
		{"/srv/app/server.js", 40, "/srv/app/server.js"},
		{"/srv/app/server.js", 10, "…server.js"},
		{"/srv/app/server.js", 1, "…"},
		{"/srv/app/server.js", 0, ""},
	}
	for _, c := range cases {
		if got := truncateLeft(c.in, c.width); got != c.want {
			t.Errorf("truncateLeft(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
	}
}
