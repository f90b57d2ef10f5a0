package report

import (
	"fmt"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// Markdown is a compact summary for a CI job ($GITHUB_STEP_SUMMARY): a heading that says
// the verdict, findings first, then the key numbers as tables. Every piece of text from the
// process is escaped, so a name cannot inject links, HTML or table columns. Warnings are
// listed in full: a step summary is read without the job's stderr.

// markdownMaxRows bounds the long tables (fds, peers) of a summary; JSON has every row.
const markdownMaxRows = 100

// mdHeading writes a level-2 heading.
func (r *renderer) mdHeading(text string) {
	r.line("## " + text)
	r.blank()
}

// mdSubheading writes a level-3 heading.
func (r *renderer) mdSubheading(text string) {
	r.line("### " + text)
	r.blank()
}

// mdTable writes a table followed by a blank line, cut to markdownMaxRows rows unless
// verbose, saying how many rows were left out.
func (r *renderer) mdTable(t *table, what string) {
	cut := 0
	if !r.verbose && len(t.rows) > markdownMaxRows {
		cut = len(t.rows) - markdownMaxRows
		t.rows = t.rows[:markdownMaxRows]
	}
	writeMarkdownTable(r.buf, t)
	if cut > 0 {
		r.blank()
		r.line(fmt.Sprintf("%s and %d more %s (JSON output has them all).", r.ellipsis(), cut, what))
	}
	r.blank()
}

// mdWarnings lists the warnings, if any.
func (r *renderer) mdWarnings(warnings []string) {
	if len(warnings) == 0 {
		return
	}
	r.mdSubheading("Warnings")
	for _, w := range warnings {
		r.line("- " + markdownEscape(w))
	}
	r.blank()
}

// mdIdentity is the process's identity for a heading: "pid 4242 node".
func mdIdentity(s *model.Snapshot) string { return markdownEscape(identity(s.Process)) }

// mdSeverity is a finding's severity, bold and upper case when warning or worse.
func mdSeverity(s model.Severity) string {
	name := markdownEscape(strings.ToUpper(string(s)))
	if s.Rank() >= model.SeverityWarning.Rank() {
		return "**" + name + "**"
	}
	return name
}

// markdownReport is the report view as a CI summary.
func (r *renderer) markdownReport(s *model.Snapshot) {
	verdict := "no findings"
	if len(s.Findings) > 0 {
		verdict = findingCounts(s.Findings)
	}
	r.mdHeading("nodeinspect: " + mdIdentity(s) + " — " + verdict)
	r.line(markdownEscape(spanText(r.headerLine(s))))
	if p := s.Process; p != nil {
		r.line("")
		r.line("cmd: " + markdownEscape(commandLine(p.Cmdline, p.Comm)))
	}
	r.blank()

	if len(s.Findings) > 0 {
		r.mdSubheading("Findings")
		for _, f := range s.Findings {
			r.line("- " + mdSeverity(f.Severity) + " `" + strings.ReplaceAll(safe(string(f.Code)), "`", "'") + "`: " + markdownEscape(f.Summary))
			for _, l := range r.evidenceLines(f.Evidence) {
				r.line("  - " + markdownEscape(l))
			}
			if f.Advice != "" {
				r.line("  - **advice:** " + markdownEscape(f.Advice))
			}
		}
		r.blank()
	}

	r.mdSubheading("Key numbers")
	t := &table{cols: []column{{title: "what"}, {title: "value"}}}
	if s.FDs != nil {
		t.add(txt("fds"), txt(spanText(fdUsage(s))))
		if n, bytes, _ := s.FDs.DeletedFiles(); n > 0 {
			t.add(txt("deleted files"), styled(units.Count(n, "file", "files")+" holding "+units.SignedBytes(bytes), styleWarning))
		}
	} else {
		t.add(txt("fds"), txt(missing(s.Warnings)))
	}
	switch {
	case s.Sockets == nil:
		t.add(txt("TCP sockets"), txt(missing(s.Warnings)))
	case len(s.Sockets.ByState) == 0:
		t.add(txt("TCP sockets"), txt("none"))
	default:
		t.add(txt("TCP sockets"), txt(spanText(joinCounts(s.Sockets.ByState, stateOrder(s.Sockets.ByState), nil))))
	}
	if s.Memory != nil {
		t.add(txt("memory"), txt(memoryLine(s.Memory)))
		if h := s.Memory.Heap; h != nil {
			t.add(txt("V8 heap"+heapSource(h)), txt(heapLine(h)))
		}
	} else {
		t.add(txt("memory"), txt(missing(s.Warnings)))
	}
	containerRows(t, s)
	if s.Children != nil {
		sum, st := childrenSummary(s.Children)
		t.add(txt("children"), styled(sum, st))
	} else {
		t.add(txt("children"), txt(missing(s.Warnings)))
	}
	switch {
	case s.Orphans == nil:
		t.add(txt("orphans"), txt(missing(s.Warnings)))
	case len(s.Orphans) == 0:
		t.add(txt("orphans"), txt("none"))
	default:
		t.add(txt("orphans"), styled(units.Count(len(s.Orphans), "process", "processes"), styleWarning))
	}
	loop, st := loopVerdict(s.EventLoop)
	t.add(txt("event loop"), styled(loop, st))
	if s.Node != nil {
		t.add(txt("node"), txt(nodeLine(s)))
		if s.Node.Error != nil {
			t.add(txt(errorLabel(s.Node.Error)), styled(errorText(s.Node.Error), styleWarning))
		}
	}
	if s.Attach != nil {
		text, st := attachLine(s.Attach)
		t.add(txt("attach"), styled(text, st))
	}
	r.mdTable(t, "rows")
	r.mdWarnings(s.Warnings)
}

// mdMissing is a Markdown view whose section could not be read: why, then the warnings.
func (r *renderer) mdMissing(section string, s *model.Snapshot) {
	r.line(section + " " + markdownEscape(missing(s.Warnings)))
	r.blank()
	r.mdWarnings(s.Warnings)
}

// markdownFDs is the fds view as Markdown.
func (r *renderer) markdownFDs(s *model.Snapshot) {
	r.mdHeading("nodeinspect fds: " + mdIdentity(s))
	if s.FDs == nil {
		r.mdMissing("fds", s)
		return
	}
	r.line(markdownEscape(spanText(fdUsage(s))))
	if n, _, _ := s.FDs.DeletedFiles(); n > 0 {
		r.line("")
		r.line("**" + markdownEscape(deletedText(s.FDs)) + "**")
	}
	r.blank()
	if s.FDs.CountedFrom != "" {
		r.line(markdownEscape(countOnlyText))
		r.blank()
	} else if len(s.FDs.List) == 0 {
		r.line("no open fds")
		r.blank()
	} else {
		r.mdTable(r.fdTable(s), "fds")
	}
	r.mdWarnings(s.Warnings)
}

// markdownSockets is the sockets view as Markdown.
func (r *renderer) markdownSockets(s *model.Snapshot) {
	r.mdHeading("nodeinspect sockets: " + mdIdentity(s))
	if s.Sockets == nil {
		r.mdMissing("sockets", s)
		return
	}
	so := s.Sockets
	if len(so.ByState) == 0 {
		r.line("no TCP sockets")
		r.blank()
	} else {
		r.mdSubheading("TCP sockets by state")
		r.mdTable(stateTable(s), "states")
	}
	if len(so.ByPeer) > 0 {
		r.mdSubheading("TCP connections by peer")
		r.mdTable(r.peerTable(s), "peer groups")
	}
	if so.Unmatched > 0 {
		r.line(markdownEscape(units.Count(so.Unmatched, "socket fd", "socket fds") + " matched no socket table (raw, packet or other families)"))
		r.blank()
	}
	r.mdWarnings(s.Warnings)
}

// markdownMem is the mem view as Markdown.
func (r *renderer) markdownMem(s *model.Snapshot) {
	r.mdHeading("nodeinspect mem: " + mdIdentity(s))
	if s.Memory == nil {
		r.mdMissing("memory", s)
		return
	}
	r.mdTable(memoryTable(s.Memory), "rows")
	if h := s.Memory.Heap; h != nil {
		r.mdTable(heapTable(h), "rows")
		if u := heapUsage(h); u != "" {
			r.line(markdownEscape(u))
			r.blank()
		}
	} else {
		r.line(markdownEscape(heapMissing))
		r.blank()
	}
	r.mdWarnings(s.Warnings)
}

// markdownTree is the tree view as a nested Markdown list.
func (r *renderer) markdownTree(s *model.Snapshot) {
	r.mdHeading("nodeinspect tree: " + mdIdentity(s))
	if s.Children == nil {
		r.line("children " + markdownEscape(missing(s.Warnings)))
	} else {
		if p := s.Process; p != nil {
			root, _ := processText(p.PID, p.State, p.Comm, p.Cmdline, false)
			r.line("- " + markdownEscape(root))
		}
		for _, l := range r.flattenTree(s.Children) {
			text, st := processText(l.child.PID, l.child.State, l.child.Comm, l.child.Cmdline, l.child.Zombie)
			depth := l.depth
			if s.Process != nil {
				depth++
			}
			r.line(strings.Repeat("  ", depth) + "- " + markdownInline(cell{text: text, style: st}))
		}
	}
	r.blank()
	switch {
	case s.Orphans == nil:
		r.line("orphans " + markdownEscape(missing(s.Warnings)))
		r.blank()
	case len(s.Orphans) == 0:
		r.line("orphans: none")
		r.blank()
	default:
		r.mdSubheading("Orphans")
		for _, o := range s.Orphans {
			r.line("- " + markdownEscape(orphanText(o)))
		}
		r.blank()
	}
	r.mdWarnings(s.Warnings)
}

// markdownPS is the ps view as Markdown.
func (r *renderer) markdownPS(res *model.PSResult) {
	r.mdHeading("nodeinspect ps: " + markdownEscape(psCounts(res)))
	if len(res.Processes) > 0 {
		r.mdTable(r.psTable(res), "processes")
	}
	r.mdWarnings(res.Warnings)
}
