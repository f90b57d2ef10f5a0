package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// RenderDiff writes the comparison of two snapshots (`nodeinspect diff A B`) in one Write:
// findings first, then what was added and removed.
func RenderDiff(w io.Writer, d *model.Diff, opt Options) error {
	if d == nil {
		return fmt.Errorf("render diff: no diff")
	}
	return renderFormats(w, "diff", opt, func() any { return d }, func(r *renderer) { r.markdownDiff(d) }, func(r *renderer) error { return r.textDiff(d) })
}

// diffTitle says which snapshots are compared and over how long.
func diffTitle(d *model.Diff) string {
	span := formatDuration(msDuration(int64(d.IntervalSeconds*1000))) + " between snapshots"
	if d.ShortInterval {
		span += " (under a minute: changes, not rates)"
	}
	if d.SameProcess {
		return fmt.Sprintf("pid %d %s: %s", d.After.PID, safe(d.After.Comm), span)
	}
	return fmt.Sprintf("pid %d %s -> pid %d %s (different processes): %s", d.Before.PID, safe(d.Before.Comm), d.After.PID, safe(d.After.Comm), span)
}

// deltaText formats a Delta of counts ("30 -> 80 (+50)") or bytes when bytes is set.
func deltaText(d model.Delta, bytes bool) string {
	if d.Before == nil || d.After == nil || d.Change == nil {
		return notAvailable
	}
	if bytes {
		return fmt.Sprintf("%s -> %s (%s)", units.Bytes(uint64(*d.Before)), units.Bytes(uint64(*d.After)), signedBytes(*d.Change))
	}
	return fmt.Sprintf("%.0f -> %.0f (%+.0f)", *d.Before, *d.After, *d.Change)
}

func signedBytes(v float64) string {
	if v < 0 {
		return "-" + units.Bytes(uint64(-v))
	}
	return "+" + units.Bytes(uint64(v))
}

// diffTables builds the tables of a diff: changed numbers, added and removed fds, peers,
// children.
func (r *renderer) diffTables(d *model.Diff) []struct {
	title string
	t     *table
} {
	var out []struct {
		title string
		t     *table
	}
	add := func(title string, t *table) {
		if len(t.rows) > 0 {
			out = append(out, struct {
				title string
				t     *table
			}{title, t})
		}
	}
	nums := &table{cols: []column{{title: "WHAT"}, {title: "CHANGE", flex: true}}}
	if d.FDs != nil {
		nums.add(txt("fds"), txt(deltaText(d.FDs.Open, false)))
		for _, typ := range sortedKeys(d.FDs.ByType) {
			if c := d.FDs.ByType[typ].Change; c != nil && *c != 0 {
				nums.add(txt("fds:"+safe(typ)), txt(deltaText(d.FDs.ByType[typ], false)))
			}
		}
	}
	if d.Sockets != nil {
		for _, st := range sortedKeys(d.Sockets.ByState) {
			if c := d.Sockets.ByState[st].Change; c != nil && *c != 0 {
				nums.add(txt("tcp:"+safe(st)), txt(deltaText(d.Sockets.ByState[st], false)))
			}
		}
	}
	if m := d.Memory; m != nil {
		nums.add(txt("rss"), txt(deltaText(m.RSS, true)))
		if m.PSS.Change != nil {
			nums.add(txt("pss"), txt(deltaText(m.PSS, true)))
		}
		if m.HeapUsed.Change != nil {
			nums.add(txt("heap_used"), txt(deltaText(m.HeapUsed, true)))
		}
	}
	add("changes", nums)
	if d.FDs != nil {
		for _, side := range []struct {
			name   string
			groups []model.FDGroup
		}{{"added fds", d.FDs.Added}, {"removed fds", d.FDs.Removed}} {
			t := &table{cols: []column{{title: "COUNT", right: true}, {title: "TYPE"}, {title: "FDS"}, {title: "TARGET", flex: true}}}
			for _, g := range side.groups {
				t.add(txt(fmt.Sprint(g.Count)), txt(safe(g.Type)), txt(intList(g.FDs, 5, r.ellipsis())), txt(safe(g.Target)))
			}
			add(side.name, t)
		}
		t := &table{cols: []column{{title: "FD", right: true}, {title: "SIZE", right: true}, {title: "PATH", flex: true}}}
		for _, f := range d.FDs.DeletedNew {
			size := notAvailable
			if f.Size != nil {
				size = units.Bytes(uint64(max(*f.Size, 0)))
			}
			t.add(txt(fmt.Sprint(f.FD)), txt(size), txt(safe(f.Path)))
		}
		add("deleted files newly held", t)
	}
	if d.Sockets != nil {
		t := &table{cols: []column{{title: "REMOTE"}, {title: "STATE"}, {title: "CHANGE", flex: true}}}
		for _, p := range d.Sockets.ByPeer {
			t.add(txt(safe(orDash(p.Remote))), txt(safe(p.State)), txt(fmt.Sprintf("%d -> %d (%+d)", p.Before, p.After, p.Change)))
		}
		add("TCP peers", t)
	}
	if d.Children != nil {
		t := &table{cols: []column{{title: "CHANGE"}, {title: "PID", right: true}, {title: "STATE"}, {title: "COMM", flex: true}}}
		for _, c := range d.Children.Appeared {
			t.add(txt("appeared"), txt(fmt.Sprint(c.PID)), txt(safe(c.State)), txt(safe(c.Comm)))
		}
		for _, c := range d.Children.Gone {
			t.add(txt("gone"), txt(fmt.Sprint(c.PID)), txt(safe(c.State)), txt(safe(c.Comm)))
		}
		add("children", t)
	}
	return out
}

func (r *renderer) textDiff(d *model.Diff) error {
	r.line(diffTitle(d))
	r.blank()
	if len(d.Findings) == 0 {
		r.line(r.paint(styleGood, "no growth"))
	} else {
		r.line("FINDINGS  " + findingCounts(d.Findings))
		r.blank()
		for _, f := range d.Findings {
			r.writeFinding(f)
			r.blank()
		}
	}
	for _, s := range r.diffTables(d) {
		r.blank()
		r.line(strings.ToUpper(s.title))
		if err := r.table(s.t); err != nil {
			return err
		}
	}
	r.warningsNote(d.Warnings)
	return nil
}

func (r *renderer) markdownDiff(d *model.Diff) {
	verdict := "no growth"
	if len(d.Findings) > 0 {
		verdict = findingCounts(d.Findings)
	}
	r.mdHeading("nodeinspect diff: " + markdownEscape(diffTitle(d)) + " — " + verdict)
	if len(d.Findings) > 0 {
		r.mdSubheading("Findings")
		for _, f := range d.Findings {
			r.line("- " + mdSeverity(f.Severity) + " `" + strings.ReplaceAll(safe(string(f.Code)), "`", "'") + "`: " + markdownEscape(f.Summary))
			if f.Advice != "" {
				r.line("  - **advice:** " + markdownEscape(f.Advice))
			}
		}
		r.blank()
	}
	for _, s := range r.diffTables(d) {
		r.mdSubheading(strings.ToUpper(s.title[:1]) + s.title[1:])
		r.mdTable(s.t, "rows")
	}
	r.mdWarnings(d.Warnings)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func intList(v []int, max int, ellipsis string) string {
	var parts []string
	for i, n := range v {
		if i == max {
			parts = append(parts, ellipsis)
			break
		}
		parts = append(parts, fmt.Sprint(n))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
