package report

import (
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// treeLine is one process of a flattened tree: the branch drawing before it and the node.
type treeLine struct {
	prefix string
	depth  int
	child  *model.Child
}

// treeBranches are the strings that draw a tree: unicode for the terminal, ASCII (as
// `pstree -A`) for plain output.
type treeBranches struct{ tee, last, pipe, space string }

func (r *renderer) branches() treeBranches {
	if r.ascii {
		return treeBranches{tee: "|- ", last: "`- ", pipe: "|  ", space: "   "}
	}
	return treeBranches{tee: "├─ ", last: "└─ ", pipe: "│  ", space: "   "}
}

// flattenTree lists the children depth first with their branch drawing. A node met twice
// (a cycle in a corrupt tree) or a nil node is skipped.
func (r *renderer) flattenTree(children []*model.Child) []treeLine {
	b := r.branches()
	var out []treeLine
	seen := map[*model.Child]bool{}
	var walk func(list []*model.Child, indent string, depth int)
	walk = func(list []*model.Child, indent string, depth int) {
		var kids []*model.Child
		for _, c := range list {
			if c != nil && !seen[c] {
				seen[c] = true
				kids = append(kids, c)
			}
		}
		for i, c := range kids {
			branch, next := b.tee, b.pipe
			if i == len(kids)-1 {
				branch, next = b.last, b.space
			}
			out = append(out, treeLine{prefix: indent + branch, depth: depth, child: c})
			walk(c.Children, indent+next, depth+1)
		}
	}
	walk(children, "", 0)
	return out
}

// countTree returns how many processes and zombies a tree holds.
func countTree(children []*model.Child) (total, zombies int) {
	seen := map[*model.Child]bool{}
	var walk func([]*model.Child)
	walk = func(list []*model.Child) {
		for _, c := range list {
			if c == nil || seen[c] {
				continue
			}
			seen[c] = true
			total++
			if c.Zombie {
				zombies++
			}
			walk(c.Children)
		}
	}
	walk(children)
	return total, zombies
}

// zombieTag ends the line of a zombie; shortening a line to the terminal never cuts it.
const zombieTag = " <defunct>  ZOMBIE"

// processText is how one process of the tree reads: "4244 S worker  node worker.js", a
// zombie "4243 Z sh <defunct>  ZOMBIE". The command line is left out when it adds nothing
// to the comm. It returns the text and its style.
func processText(pid int, state, comm string, cmdline []string, zombie bool) (string, style) {
	var b strings.Builder
	b.WriteString(strconv.Itoa(pid))
	b.WriteByte(' ')
	if state == "" {
		state = "?"
	}
	b.WriteString(safe(state))
	b.WriteByte(' ')
	b.WriteString(quoteIfNeeded(comm))
	if zombie {
		b.WriteString(zombieTag)
		return b.String(), styleCritical
	}
	if cmd := joinArgs(cmdline); cmd != "" && cmd != safe(comm) {
		b.WriteString("  ")
		b.WriteString(cmd)
	}
	return b.String(), styleNone
}

// orphanText is how one orphan reads: "4300 S node  ppid 1  pgid 4242  node old.js".
func orphanText(o model.Orphan) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(o.PID))
	b.WriteByte(' ')
	state := safe(o.State)
	if state == "" {
		state = "?"
	}
	b.WriteString(state)
	b.WriteByte(' ')
	b.WriteString(quoteIfNeeded(o.Comm))
	b.WriteString("  ppid " + strconv.Itoa(o.PPID) + "  pgid " + strconv.Itoa(o.PGID))
	if cmd := joinArgs(o.Cmdline); cmd != "" {
		b.WriteString("  " + cmd)
	}
	return b.String()
}

// childrenSummary says "3 children (1 zombie)" or "none".
func childrenSummary(children []*model.Child) (string, style) {
	total, zombies := countTree(children)
	if total == 0 {
		return "none", styleNone
	}
	s := units.Count(total, "process", "processes")
	if zombies > 0 {
		return s + " (" + units.Count(zombies, "zombie", "zombies") + ")", styleWarning
	}
	return s, styleNone
}

// treeMaxInReport is how many processes of the tree the report view lists; the tree view
// lists them all.
const treeMaxInReport = 20

// treeRow writes one process of a tree, after used columns: the branches dim, the process
// shortened to the terminal width (a command line is cut, not wrapped, so every process
// stays on one line).
func (r *renderer) treeRow(used int, l treeLine) {
	text, st := processText(l.child.PID, l.child.State, l.child.Comm, l.child.Cmdline, l.child.Zombie)
	used += displayWidth(l.prefix)
	if l.child.Zombie {
		text = r.fitAfter(used+len(zombieTag), strings.TrimSuffix(text, zombieTag)) + zombieTag
	} else {
		text = r.fitAfter(used, text)
	}
	r.line(r.paint(styleDim, l.prefix) + r.paint(st, text))
}

// textTree is the tree view: the process itself as the root, its children below it, then
// the orphans of its process group or session.
func (r *renderer) textTree(s *model.Snapshot) {
	title := []span{{identity(s.Process), styleBold}, sp(r.sep())}
	if s.Children == nil {
		title = append(title, sp("children "+missing(s.Warnings)))
	} else {
		sum, st := childrenSummary(s.Children)
		title = append(title, sp("children: "), span{sum, st})
	}
	r.rich(0, 0, title...)
	r.blank()
	if p := s.Process; p != nil {
		root, _ := processText(p.PID, p.State, p.Comm, p.Cmdline, false)
		r.line(r.paint(styleBold, r.fitAfter(0, root)))
	}
	for _, l := range r.flattenTree(s.Children) {
		r.treeRow(0, l)
	}
	r.blank()
	switch {
	case s.Orphans == nil:
		r.rich(0, 0, span{"orphans", styleBold}, sp(": "+missing(s.Warnings)))
	case len(s.Orphans) == 0:
		r.rich(0, 0, span{"orphans", styleBold}, sp(": none"))
	default:
		r.rich(0, 2, span{"orphans", styleBold}, sp(": "), span{units.Count(len(s.Orphans), "process", "processes"), styleWarning},
			sp(" of this process group or session lost their parent"))
		for _, o := range s.Orphans {
			r.line("  " + r.fitAfter(2, orphanText(o)))
		}
	}
	r.warningsNote(s.Warnings)
}

// fitAfter shortens text (not painted) so it fits the terminal width after used columns
// (table format only; never below minFlexWidth).
func (r *renderer) fitAfter(used int, text string) string {
	if r.width <= 0 {
		return text
	}
	room := r.width - used
	if room < minFlexWidth {
		room = minFlexWidth
	}
	return truncate(text, room, r.ellipsis())
}
