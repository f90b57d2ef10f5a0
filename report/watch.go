package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/trend"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// sparkTicks are the eight block heights of a sparkline; plain output uses sparkASCII.
var (
	sparkTicks = []rune("▁▂▃▄▅▆▇█")
	sparkASCII = []rune("_.-~=^*#")
)

// sparkline draws the last width values scaled between their minimum and maximum.
func sparkline(values []float64, width int, ascii bool) string {
	ticks := sparkTicks
	if ascii {
		ticks = sparkASCII
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	if len(values) == 0 {
		return ""
	}
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = min(lo, v), max(hi, v)
	}
	var b strings.Builder
	for _, v := range values {
		i := 0
		if hi > lo {
			i = int((v - lo) / (hi - lo) * float64(len(ticks)-1))
		}
		b.WriteRune(ticks[i])
	}
	return b.String()
}

// watchMetrics are the lines of the live view: the sample metric, and whether it is bytes.
var watchMetrics = []struct {
	name  string
	bytes bool
}{
	{"fds", false}, {"close_wait", false}, {"established", false}, {"rss_bytes", true},
	{"heap_used_bytes", true}, {"children", false}, {"zombies", false},
}

// RenderWatchFrame draws the live view of a watch from its samples so far: one line per
// metric with its current value, a sparkline of its history and its rate over the last
// minute. The caller clears the screen between frames on a terminal.
func RenderWatchFrame(w io.Writer, samples []*model.Sample, opt Options) error {
	if len(samples) == 0 {
		return nil
	}
	var buf bytes.Buffer
	r := newRenderer(&buf, opt)
	last := samples[len(samples)-1]
	span := last.TakenAt.Sub(samples[0].TakenAt)
	r.line(r.paint(styleBold, fmt.Sprintf("nodeinspect watch  pid %d  %d samples over %s  (Ctrl-C to stop)", last.PID, len(samples), formatDuration(span))))
	if last.FDsOpen != nil && last.OpenFilesSoft != nil {
		r.line(fmt.Sprintf("fds %d of %d (%s)", *last.FDsOpen, *last.OpenFilesSoft, ratioPercent(uint64(*last.FDsOpen), *last.OpenFilesSoft)))
	}
	r.blank()
	sparkWidth := 40
	if opt.Width > 0 && opt.Width < 100 {
		sparkWidth = max(10, opt.Width-60)
	}
	t := &table{cols: []column{{title: "METRIC"}, {title: "NOW", right: true}, {title: "RATE/MIN", right: true}, {title: "HISTORY", flex: true}}}
	for _, m := range watchMetrics {
		var values []float64
		var times []float64
		for _, s := range samples {
			if v, ok := s.Value(m.name); ok {
				values = append(values, v)
				times = append(times, s.TakenAt.Sub(samples[0].TakenAt).Seconds())
			}
		}
		if len(values) == 0 {
			continue
		}
		now := values[len(values)-1]
		cur := fmt.Sprintf("%.0f", now)
		rate := "-"
		if r60, ok := recentRate(times, values, 60); ok {
			rate = fmt.Sprintf("%+.1f", r60*60)
			if m.bytes {
				rate = signedBytes(r60 * 60)
			}
		}
		if m.bytes {
			cur = cellBytes(uint64(now))
		}
		t.add(txt(strings.TrimSuffix(m.name, "_bytes")), txt(cur), txt(rate), txt(sparkline(values, sparkWidth, r.ascii)))
	}
	if err := r.table(t); err != nil {
		return err
	}
	if opt.Width > 0 {
		clipLines(&buf, opt.Width)
	}
	return writeOnce(w, endWithOneNewline(&buf))
}

// clipLines cuts every line of buf to width columns, so a live frame never wraps on a
// narrow (or just narrowed) terminal, which would scroll it instead of redrawing it in
// place. Colour escapes are kept and do not count; a cut line ends with a reset.
func clipLines(buf *bytes.Buffer, width int) {
	lines := strings.Split(buf.String(), "\n")
	buf.Reset()
	for i, l := range lines {
		if i > 0 {
			buf.WriteByte('\n')
		}
		buf.WriteString(clipLine(l, width))
	}
}

// clipLine cuts one line to width visible columns (every rune counts one: the frame is
// ASCII, box drawing and block elements).
func clipLine(l string, width int) string {
	cols := 0
	for i := 0; i < len(l); {
		if l[i] == 0x1b { // ECMA-48 CSI: ESC [ params final
			j := i + 1
			if j < len(l) && l[j] == '[' {
				j++
				for j < len(l) && (l[j] < 0x40 || l[j] > 0x7e) {
					j++
				}
			}
			i = j + 1
			continue
		}
		_, size := utf8.DecodeRuneInString(l[i:])
		if cols == width {
			cut := l[:i]
			if strings.Contains(cut, "\x1b[") {
				cut += "\x1b[0m"
			}
			return cut
		}
		cols++
		i += size
	}
	return l
}

// recentRate is the least-squares slope (per second) of the points in the last window
// seconds (inspect.LeastSquares); false without two distinct times in the window.
func recentRate(times, values []float64, window float64) (float64, bool) {
	if len(times) < 2 {
		return 0, false
	}
	end := times[len(times)-1]
	var ps []trend.Point
	for i := range times {
		if times[i] >= end-window {
			ps = append(ps, trend.Point{T: times[i], V: values[i]})
		}
	}
	slope, _, _, ok := trend.LeastSquares(ps)
	return slope, ok
}

// RenderWatchSummary writes what a watch concluded: why it ended and its trend findings.
func RenderWatchSummary(w io.Writer, sum *model.WatchSummary, opt Options) error {
	var buf bytes.Buffer
	r := newRenderer(&buf, opt)
	switch opt.Format {
	case FormatJSON:
		if err := writeJSONLine(&buf, sum); err != nil {
			return err
		}
		return writeOnce(w, &buf)
	case FormatMarkdown:
		verdict := "no steady growth"
		if len(sum.Findings) > 0 {
			verdict = findingCounts(sum.Findings)
		}
		r.mdHeading(fmt.Sprintf("nodeinspect watch: pid %d — %s", sum.PID, verdict))
		r.line(fmt.Sprintf("%d samples over %s; ended: %s", sum.Samples, formatDuration(msDuration(int64(sum.Seconds*1000))), markdownEscape(sum.Ended)))
		r.blank()
		for _, f := range sum.Findings {
			r.line("- " + mdSeverity(f.Severity) + " `" + safe(string(f.Code)) + "`: " + markdownEscape(f.Summary))
			if f.Advice != "" {
				r.line("  - **advice:** " + markdownEscape(f.Advice))
			}
		}
		r.mdWarnings(sum.Warnings)
	default:
		r.line(fmt.Sprintf("watch of pid %d ended (%s) after %d samples over %s", sum.PID, safe(sum.Ended), sum.Samples, formatDuration(msDuration(int64(sum.Seconds*1000)))))
		r.blank()
		if len(sum.Findings) == 0 {
			r.line(r.paint(styleGood, "no steady growth"))
		}
		for _, f := range sum.Findings {
			r.writeFinding(f)
			r.blank()
		}
		r.warningsNote(sum.Warnings)
	}
	return writeOnce(w, endWithOneNewline(&buf))
}

// RenderSampleLine writes one sample as one line of JSON (for `watch | tee samples.jsonl`).
func RenderSampleLine(w io.Writer, s *model.Sample) error {
	var buf bytes.Buffer
	if err := writeJSONLine(&buf, s); err != nil {
		return err
	}
	return writeOnce(w, &buf)
}

// RenderSamplePlain writes one sample as one line of plain text, for a watch piped with
// --format plain: no colour, no cursor movement, stable "name value" columns that grep and
// awk can read ("n/a" for what could not be measured).
func RenderSamplePlain(w io.Writer, s *model.Sample) error {
	intOr := func(p *int) string {
		if p == nil {
			return notAvailable
		}
		return strconv.Itoa(*p)
	}
	bytesOr := func(p *uint64) string {
		if p == nil {
			return notAvailable
		}
		return strings.ReplaceAll(units.Bytes(*p), " ", "")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  pid %d  seq %d  fds %s", s.TakenAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"), s.PID, s.Seq, intOr(s.FDsOpen))
	if s.OpenFilesSoft != nil {
		fmt.Fprintf(&b, "  limit %d", *s.OpenFilesSoft)
	}
	established := notAvailable
	if s.SocketsBy != nil {
		established = strconv.Itoa(s.SocketsBy["ESTABLISHED"])
	}
	fmt.Fprintf(&b, "  close_wait %s  established %s  rss %s", intOr(s.CloseWait), established, bytesOr(s.RSSBytes))
	if s.HeapUsedBytes != nil {
		fmt.Fprintf(&b, "  heap_used %s", bytesOr(s.HeapUsedBytes))
	}
	fmt.Fprintf(&b, "  children %s  zombies %s\n", intOr(s.Children), intOr(s.Zombies))
	_, err := io.WriteString(w, b.String())
	return err
}
