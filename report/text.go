package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// Helpers shared by the human views (table and plain).

// span is a piece of a line of text: already safe, not yet painted.
type span struct {
	text  string
	style style
}

// sp is an unstyled span.
func sp(text string) span { return span{text: text} }

// spanText is the text of spans without styles (for Markdown and for measuring).
func spanText(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString(s.text)
	}
	return b.String()
}

// joinSpans joins groups of spans with a separator.
func joinSpans(groups [][]span, sep string) []span {
	var out []span
	for i, g := range groups {
		if i > 0 {
			out = append(out, sp(sep))
		}
		out = append(out, g...)
	}
	return out
}

// rich writes spans as one logical line, after first columns the caller already wrote. In
// table format with a known width it wraps at spaces, continuation lines indented by indent
// columns; colours survive the wrapping since each line paints its own pieces.
func (r *renderer) rich(first, indent int, spans ...span) {
	text := spanText(spans)
	pad := strings.Repeat(" ", indent)
	for i, rg := range wrapRanges(text, r.width, first, indent) {
		if i > 0 {
			r.buf.WriteString(pad)
		}
		pos := 0
		for _, s := range spans {
			from, to := max(pos, rg[0]), min(pos+len(s.text), rg[1])
			if from < to {
				r.buf.WriteString(r.paint(s.style, text[from:to]))
			}
			pos += len(s.text)
		}
		r.buf.WriteByte('\n')
	}
}

// wrapRanges splits text into byte ranges, one per line, so that each fits width columns
// once the first line is placed after first columns and the others after indent columns.
// Lines break at spaces, which are dropped at the break; a word longer than a line stays
// whole. width ≤ 0 means one line.
func wrapRanges(text string, width, first, indent int) [][2]int {
	if width <= 0 || displayWidth(text)+first <= width {
		return [][2]int{{0, len(text)}}
	}
	var out [][2]int
	start, lastEnd := -1, -1
	room := width - first
	i := 0
	for i < len(text) {
		if text[i] == ' ' {
			i++
			continue
		}
		end := i
		for end < len(text) && text[end] != ' ' {
			end++
		}
		if start < 0 {
			start = i
		} else if displayWidth(text[start:end]) > room {
			out = append(out, [2]int{start, lastEnd})
			start = i
			room = width - indent
		}
		lastEnd = end
		i = end
	}
	if start >= 0 {
		out = append(out, [2]int{start, lastEnd})
	}
	if len(out) == 0 {
		out = [][2]int{{0, 0}}
	}
	return out
}

// labelWidth is the width of the label column of the report view ("fds", "memory"...).
const labelWidth = 12

// field writes "label      text" with the label in bold, the text wrapped under itself.
func (r *renderer) field(label string, spans ...span) {
	pad := labelWidth - len(label)
	if pad < 1 {
		pad = 1
	}
	r.buf.WriteString(r.paint(styleBold, label) + strings.Repeat(" ", pad))
	r.rich(labelWidth, labelWidth, spans...)
}

// more writes a continuation line under a field.
func (r *renderer) more(spans ...span) {
	r.buf.WriteString(strings.Repeat(" ", labelWidth))
	r.rich(labelWidth, labelWidth, spans...)
}

// identity names the process in one short phrase: `pid 4242 node`, the comm quoted when it
// has spaces or parentheses (`pid 4242 "x) Z 1 (y"`).
func identity(p *model.Process) string {
	if p == nil {
		return "pid ?"
	}
	return "pid " + strconv.Itoa(p.PID) + " " + quoteIfNeeded(p.Comm)
}

// headerLine is the first line of the report view: pid, comm, user, state, uptime,
// whether it is Node.js, whether it is an orphan, and when the snapshot was taken.
func (r *renderer) headerLine(s *model.Snapshot) []span {
	p := s.Process
	var parts [][]span
	if p != nil && s.Source == "report" {
		// A Node.js diagnostic report: what it says, not what a live process would show.
		parts = append(parts,
			[]span{{"pid " + strconv.Itoa(p.PID), styleBold}},
			[]span{sp("comm "), {quoteIfNeeded(p.Comm), styleBold}},
			[]span{sp("from report " + quoteIfNeeded(s.SourceFile))},
		)
		if s.Node != nil && s.Node.Version != "" {
			parts = append(parts, []span{sp("node " + safe(s.Node.Version))})
		}
		if s.Node != nil && s.Node.Error != nil {
			label := "crashed"
			if !s.Node.Error.Crashed() {
				label = "error"
			}
			parts = append(parts, []span{{label + ": " + safe(errorText(s.Node.Error)), styleWarning}})
		}
	} else if p == nil {
		parts = append(parts, []span{{"pid ?", styleBold}}, []span{sp("process identity unreadable")})
	} else {
		user := safe(p.User)
		if user == "" {
			user = notAvailable
			if p.UID >= 0 {
				user = strconv.Itoa(p.UID)
			}
		}
		state := safe(p.State)
		if name := stateName(p.State); name != "" {
			state += " (" + name + ")"
		}
		stateStyle := styleNone
		switch p.State {
		case "Z", "D", "T", "t", "X":
			stateStyle = styleWarning
		}
		up := notAvailable
		if d, ok := uptime(p.StartedAt, s.TakenAt); ok {
			up = formatDuration(d)
		}
		node := "no"
		if p.IsNode {
			node = "yes"
		}
		orphan := sp("orphan no")
		if p.Orphan {
			orphan = span{"orphan YES", styleWarning}
		}
		parts = append(parts,
			[]span{{"pid " + strconv.Itoa(p.PID), styleBold}},
			[]span{sp("comm "), {quoteIfNeeded(p.Comm), styleBold}},
			[]span{sp("user " + user)},
			[]span{sp("state "), {state, stateStyle}},
			[]span{sp("up " + up)},
			[]span{sp("node " + node)},
			[]span{orphan},
		)
	}
	if !s.TakenAt.IsZero() {
		parts = append(parts, []span{sp("taken " + s.TakenAt.UTC().Format(time.RFC3339))})
	}
	return joinSpans(parts, r.sep())
}

// commandLine is the process's command line, or its [comm] when it has none (a zombie).
func commandLine(args []string, comm string) string {
	if len(args) == 0 {
		return "[" + safe(comm) + "]"
	}
	return joinArgs(args)
}

// severityBadge is the fixed-width severity label of a finding: CRITICAL, WARNING, INFO.
func severityBadge(s model.Severity) string {
	name := strings.ToUpper(safe(string(s)))
	if name == "" {
		name = "?"
	}
	return fmt.Sprintf("%-8s", name)
}

// findingCounts says how many findings there are by severity, worst first: "1 critical,
// 2 warnings".
func findingCounts(fs []model.Finding) string {
	counts := map[model.Severity]int{}
	for _, f := range fs {
		counts[f.Severity]++
	}
	var parts []string
	for _, sev := range []model.Severity{model.SeverityCritical, model.SeverityWarning, model.SeverityInfo} {
		if n := counts[sev]; n > 0 {
			word := string(sev)
			if sev == model.SeverityWarning && n > 1 {
				word = "warnings"
			}
			parts = append(parts, strconv.Itoa(n)+" "+word)
		}
	}
	other := len(fs) - counts[model.SeverityCritical] - counts[model.SeverityWarning] - counts[model.SeverityInfo]
	if other > 0 {
		parts = append(parts, strconv.Itoa(other)+" of unknown severity")
	}
	return strings.Join(parts, ", ")
}

// worstSeverity returns the worst severity among findings with the given code, "" if none.
func worstSeverity(fs []model.Finding, code model.Code) model.Severity {
	var worst model.Severity
	for _, f := range fs {
		if f.Code == code && f.Severity.Rank() > worst.Rank() {
			worst = f.Severity
		}
	}
	return worst
}

// findingIndent is where a finding's text starts, after its badge: "CRITICAL  ".
const findingIndent = 10

// writeFinding writes one finding: badge, code and summary, its evidence, then the advice.
func (r *renderer) writeFinding(f model.Finding) {
	pad := strings.Repeat(" ", findingIndent)
	code := safe(string(f.Code))
	r.buf.WriteString(r.paint(severityStyle(f.Severity), severityBadge(f.Severity)) + "  ")
	r.rich(findingIndent, findingIndent, span{code, styleBold}, sp("  "+safe(f.Summary)))
	for _, l := range r.evidenceLines(f.Evidence) {
		r.buf.WriteString(pad)
		r.rich(findingIndent, findingIndent+2, span{l, styleDim})
	}
	if len(f.Related) > 0 && r.verbose {
		r.buf.WriteString(pad)
		r.rich(findingIndent, findingIndent, span{"related: " + safe(joinCodes(f.Related)), styleDim})
	}
	if f.Advice != "" {
		r.buf.WriteString(pad)
		r.rich(findingIndent, findingIndent+2, sp(r.arrow()+" "+safe(f.Advice)))
	}
}

// warningsNote ends a human view: the number of warnings, which the CLI prints on stderr, or
// the warnings themselves when verbose. Plain output has no note: its lines are parsed by
// scripts, and a trailing "1 warning" line would read as a row (`awk '{print $1}'` would
// give "1", a pid); the warnings are on stderr.
func (r *renderer) warningsNote(warnings []string) {
	if len(warnings) == 0 || (r.ascii && !r.verbose) {
		return
	}
	r.blank()
	if !r.verbose {
		r.line(r.paint(styleWarning, units.Count(len(warnings), "warning", "warnings")+" (see stderr)"))
		return
	}
	r.line(r.paint(styleWarning, "warnings:"))
	for _, w := range warnings {
		r.buf.WriteString("  - ")
		r.rich(4, 4, sp(safe(w)))
	}
}

// missing says why a section is absent: unreadable (then a warning says why) or not
// collected by this command.
func missing(warnings []string) string {
	if len(warnings) > 0 {
		return notAvailable + " (not read, see warnings)"
	}
	return notAvailable + " (not collected)"
}

// countsByValue orders a map of counts largest first, then by name: "tcp 950, file 40".
func countsByValue(m map[string]int) []string { return model.KeysByCount(m) }

// stateOrder orders TCP states for display: CLOSE_WAIT first (the leak this tool hunts),
// then by count, largest first, then by name.
func stateOrder(m map[string]int) []string {
	keys := countsByValue(m)
	sort.SliceStable(keys, func(i, j int) bool {
		return keys[i] == "CLOSE_WAIT" && keys[j] != "CLOSE_WAIT"
	})
	return keys
}

// joinCounts renders "name n, name n" in the given order, each name made safe; styleOf,
// when not nil, gives the style of a name.
func joinCounts(m map[string]int, order []string, styleOf func(string) style) []span {
	groups := make([][]span, 0, len(order))
	for _, k := range order {
		st := styleNone
		if styleOf != nil {
			st = styleOf(k)
		}
		groups = append(groups, []span{{safe(k) + " " + strconv.Itoa(m[k]), st}})
	}
	return joinSpans(groups, ", ")
}

// joinCodes is "CLOSE_WAIT_LEAK, EMFILE_RISK".
func joinCodes(cs []model.Code) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = string(c)
	}
	return strings.Join(parts, ", ")
}
