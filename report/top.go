package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// TopRow is one process on the top screen. A nil number could not be measured ("-").
type TopRow struct {
	PID       int
	Service   string
	Container string
	// CPUPercent is the CPU used since the previous refresh (100 = one core); nil on the
	// first refresh of a process.
	CPUPercent *float64
	RSSBytes   *uint64
	FDsOpen    *int
	FDLimit    *uint64
	CloseWait  *int
	// Stalled is the STALLED_SOCKETS count (nil without a sample window).
	Stalled *int
	Zombies int
	// Loop is the event-loop verdict (turning, saturated, blocked, unknown).
	Loop     string
	Flags    []model.Code
	Severity model.Severity
}

// TopFrame is one screen of `nodeinspect top`.
type TopFrame struct {
	TakenAt time.Time
	Rows    []TopRow
	// Sort names the order shown in the header (worst, cpu, mem, fds, pid).
	Sort string
	// Selected is the pid of the highlighted row (0: none).
	Selected int
	// Width and Height are the terminal's size; the frame never writes past them.
	Width, Height int
	// Color turns on ANSI colours (never with NO_COLOR); the selection is marked with ">"
	// either way.
	Color bool
	// Status is a line under the header (a warning count, "scanning...").
	Status string
}

// topColumn is one column of the top screen; flex columns take what is left.
type topColumn struct {
	title string
	right bool
	min   int
	cell  func(TopRow) string
}

// screenSize is width × height, each defaulting to the classic 80 × 24 terminal when it is
// unknown (0 or less).
func screenSize(width, height int) (int, int) {
	if width <= 0 {
		width = 80
	}
	if height <= 0 {
		height = 24
	}
	return width, height
}

// RenderTop writes one frame: home the cursor, each line cut to the width and cleared to
// its end (no wrap, no flicker), the rest of the screen cleared. Lines end in \r\n: the
// terminal is in raw mode.
func RenderTop(w io.Writer, f TopFrame) error {
	width, height := screenSize(f.Width, f.Height)
	var b strings.Builder
	b.WriteString("\x1b[H")
	line := func(s, style string) {
		s = truncate(s, width, "")
		if f.Color && style != "" {
			s = style + s + "\x1b[0m"
		}
		b.WriteString(s)
		b.WriteString("\x1b[K\r\n")
	}
	flagged := 0
	for _, r := range f.Rows {
		if len(r.Flags) > 0 {
			flagged++
		}
	}
	head := fmt.Sprintf("nodeinspect top  %s  %s", f.TakenAt.Local().Format("15:04:05"), units.Count(len(f.Rows), "Node.js process", "Node.js processes"))
	if flagged > 0 {
		head += fmt.Sprintf(", %d flagged", flagged)
	}
	line(head, "\x1b[1m")
	line(fmt.Sprintf("sort: %s   keys: w worst  c cpu  m mem  f fds  p pid  ↑↓ select  enter report  q quit", f.Sort), "")
	if f.Status != "" {
		line(f.Status, "\x1b[33m")
	} else {
		line("", "")
	}
	cols := topColumns(f.Rows, width)
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.title
	}
	widths := make([]int, len(cols))
	cells := make([][]string, len(f.Rows))
	for i, c := range cols {
		widths[i] = max(displayWidth(c.title), c.min)
	}
	for r, row := range f.Rows {
		cells[r] = make([]string, len(cols))
		for i, c := range cols {
			cells[r][i] = c.cell(row)
			if c.title != "SERVICE" && c.title != "FLAGS" {
				widths[i] = max(widths[i], displayWidth(cells[r][i]))
			}
		}
	}
	// SERVICE takes what the other columns leave (at least its minimum), FLAGS the rest.
	fixed := 2
	for i, c := range cols {
		if c.title != "SERVICE" && c.title != "FLAGS" {
			fixed += widths[i] + 1
		}
	}
	// SERVICE leaves FLAGS room for the longest flags when it can keep 24 columns, and
	// room for 16 of them otherwise; then the line is cut at the width.
	flagsLongest := len("FLAGS")
	for i, c := range cols {
		if c.title == "FLAGS" {
			for r := range cells {
				flagsLongest = max(flagsLongest, displayWidth(cells[r][i]))
			}
		}
	}
	for i, c := range cols {
		if c.title == "SERVICE" {
			longest := displayWidth(c.title)
			for r := range cells {
				longest = max(longest, displayWidth(cells[r][i]))
			}
			avail := width - fixed - 1 // the space after SERVICE
			w := min(longest, avail-flagsLongest)
			if w < 24 {
				w = min(longest, avail-min(16, flagsLongest))
			}
			widths[i] = max(c.min, w)
		}
	}
	format := func(vals []string, marker string) string {
		var s strings.Builder
		s.WriteString(marker)
		for i, v := range vals {
			if cols[i].title == "FLAGS" {
				s.WriteString(v)
				break
			}
			if cols[i].title == "SERVICE" {
				v = truncateLeft(v, widths[i])
			} else {
				v = truncate(v, widths[i], "…")
			}
			pad := strings.Repeat(" ", max(0, widths[i]-displayWidth(v)))
			if cols[i].right {
				s.WriteString(pad + v)
			} else {
				s.WriteString(v + pad)
			}
			s.WriteString(" ")
		}
		return strings.TrimRight(s.String(), " ")
	}
	line(format(header, "  "), "\x1b[1;7m")
	// Four lines above the rows; the frame stays a line short of the height, so its last
	// line feed never scrolls the screen.
	room := max(height-5, 1)
	show := len(f.Rows)
	if show > room {
		show = room - 1
	}
	for r, row := range f.Rows {
		if r >= show {
			break
		}
		marker, style := "  ", topStyle(row.Severity)
		if row.PID == f.Selected {
			marker = "> "
			style += "\x1b[7m"
		}
		line(format(cells[r], marker), style)
	}
	if hidden := len(f.Rows) - show; hidden > 0 {
		line(fmt.Sprintf("  … %d more (a taller terminal shows them)", hidden), "")
	}
	b.WriteString("\x1b[J")
	_, err := io.WriteString(w, b.String())
	return err
}

// topColumns are the columns of the top screen for these rows: CONTAINER only when a
// process runs in one; on a narrow terminal the least telling columns go first.
func topColumns(rows []TopRow, width int) []topColumn {
	dash := func(p *int) string {
		if p == nil {
			return notAvailable
		}
		return strconv.Itoa(*p)
	}
	cols := []topColumn{
		{title: "PID", right: true, cell: func(r TopRow) string { return strconv.Itoa(r.PID) }},
		{title: "SERVICE", min: 12, cell: func(r TopRow) string { return safe(r.Service) }},
		{title: "CONTAINER", cell: func(r TopRow) string {
			if r.Container == "" {
				return notAvailable
			}
			return safe(r.Container)
		}},
		{title: "CPU%", right: true, cell: func(r TopRow) string {
			if r.CPUPercent == nil {
				return notAvailable
			}
			return strconv.FormatFloat(*r.CPUPercent, 'f', 1, 64)
		}},
		{title: "RSS", right: true, cell: func(r TopRow) string { return optCellBytes(r.RSSBytes) }},
		{title: "FDS/LIMIT", right: true, cell: func(r TopRow) string {
			if r.FDsOpen == nil {
				return notAvailable
			}
			lim := "-"
			if r.FDLimit != nil {
				lim = strconv.FormatUint(*r.FDLimit, 10)
			}
			return strconv.Itoa(*r.FDsOpen) + "/" + lim
		}},
		{title: "CLOSE_WAIT", right: true, cell: func(r TopRow) string { return dash(r.CloseWait) }},
		{title: "STALLED", right: true, cell: func(r TopRow) string { return dash(r.Stalled) }},
		{title: "ZOMBIES", right: true, cell: func(r TopRow) string { return strconv.Itoa(r.Zombies) }},
		{title: "LOOP", cell: func(r TopRow) string {
			if r.Loop == "" {
				return "unknown"
			}
			return r.Loop
		}},
		{title: "FLAGS", cell: func(r TopRow) string {
			flags := make([]string, len(r.Flags))
			for i, f := range r.Flags {
				flags[i] = safe(string(f))
			}
			return strings.Join(flags, ",")
		}},
	}
	withContainer := false
	for _, r := range rows {
		withContainer = withContainer || r.Container != ""
	}
	drop := map[string]bool{"CONTAINER": !withContainer}
	// Narrow terminals: drop STALLED, then LOOP, then CLOSE_WAIT's long title for a short one.
	if width < 100 {
		drop["STALLED"] = true
	}
	if width < 90 {
		drop["LOOP"] = true
	}
	if width < 70 {
		drop["CONTAINER"] = true
		drop["ZOMBIES"] = true
	}
	out := cols[:0:0]
	for _, c := range cols {
		if !drop[c.title] {
			if width < 80 && c.title == "CLOSE_WAIT" {
				c.title = "CW"
			}
			out = append(out, c)
		}
	}
	return out
}

// topStyle colours a row by its worst finding.
func topStyle(s model.Severity) string {
	switch s {
	case model.SeverityCritical:
		return "\x1b[31m"
	case model.SeverityWarning:
		return "\x1b[33m"
	}
	return ""
}

// RenderTopPager writes a page of text (a process's report) under a one-line title: the
// lines from offset, as many as fit, each cut to the width.
func RenderTopPager(w io.Writer, title string, lines []string, offset, width, height int, color bool) error {
	width, height = screenSize(width, height)
	var b strings.Builder
	b.WriteString("\x1b[H")
	t := truncate(title, width, "")
	if color {
		t = "\x1b[1;7m" + t + "\x1b[0m"
	}
	b.WriteString(t + "\x1b[K\r\n")
	for i := offset; i < len(lines) && i-offset < height-2; i++ {
		// The report was rendered for this width; a line longer than it (ANSI codes do not
		// count) is left to the terminal's cut rather than cut through an escape.
		b.WriteString(lines[i] + "\x1b[K\r\n")
	}
	b.WriteString("\x1b[J")
	_, err := io.WriteString(w, b.String())
	return err
}

// truncateLeft shortens s to width columns by cutting its start ("…node/server.js"): the end
// of a script path names the service.
func truncateLeft(s string, width int) string {
	if displayWidth(s) <= width {
		return s
	}
	if width < 1 {
		return ""
	}
	runes := []rune(s)
	used, i := 1, len(runes)
	for i > 0 && used+displayWidth(string(runes[i-1])) <= width {
		used += displayWidth(string(runes[i-1]))
		i--
	}
	return "…" + string(runes[i:])
}
