package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// psTable is the ps view: PID PPID USER UPTIME RSS FDS/LIMIT CLOSE_WAIT ZOMBIES FLAGS LOOP
// COMMAND, one row per process in the order given, with a CONTAINER column before FLAGS
// when any process runs in one. Every cell but COMMAND is one word.
func (r *renderer) psTable(res *model.PSResult) *table {
	t := &table{cols: []column{
		{title: "PID", right: true}, {title: "PPID", right: true}, {title: "USER"}, {title: "UPTIME", right: true},
		{title: "RSS", right: true}, {title: "FDS/LIMIT", right: true}, {title: "CLOSE_WAIT", right: true},
		{title: "ZOMBIES", right: true}, {title: "FLAGS"}, {title: "LOOP"}, {title: "COMMAND", flex: true},
	}}
	withContainer := anyContainer(res)
	if withContainer {
		t.cols = insertAt(t.cols, len(t.cols)-3, column{title: "CONTAINER"})
	}
	for _, p := range res.Processes {
		up := notAvailable
		if p.UptimeSeconds != nil {
			up = cellDuration(time.Duration(*p.UptimeSeconds * float64(time.Second)))
		}
		user := strings.ReplaceAll(safe(p.User), " ", "_")
		if user == "" {
			user = "?"
		}
		fds := notAvailable
		if p.FDsOpen != nil {
			fds = strconv.Itoa(*p.FDsOpen) + "/"
			if p.OpenFilesSoft != nil {
				fds += strconv.FormatUint(*p.OpenFilesSoft, 10)
			} else {
				fds += "-"
			}
		}
		closeWait, cwStyle := notAvailable, styleNone
		if p.CloseWait != nil {
			closeWait = strconv.Itoa(*p.CloseWait)
			if *p.CloseWait > 0 {
				cwStyle = closeWaitStyle(p.Findings)("CLOSE_WAIT")
			}
		}
		zombieStyle := styleNone
		if p.Zombies > 0 {
			zombieStyle = styleWarning
		}
		flags := make([]string, 0, len(p.Flags))
		for _, f := range p.Flags {
			flags = append(flags, safe(string(f)))
		}
		sev := p.Severity
		if sev == "" && len(flags) > 0 {
			sev = model.SeverityWarning
		}
		loop, loopStyle := "-", styleNone
		if p.Loop != nil {
			loop = safe(*p.Loop)
			if *p.Loop == "blocked" || *p.Loop == "saturated" {
				loopStyle = styleWarning
			}
		}
		command := ""
		if len(p.Cmdline) > 0 {
			command = joinArgs(p.Cmdline)
		}
		cells := []cell{
			txt(strconv.Itoa(p.PID)), txt(strconv.Itoa(p.PPID)), txt(user), txt(up),
			txt(optCellBytes(p.RSSBytes)),
			styled(fds, severityStyle(worstSeverity(p.Findings, model.CodeEMFILERisk))),
			styled(closeWait, cwStyle),
			styled(strconv.Itoa(p.Zombies), zombieStyle),
			styled(strings.Join(flags, ","), severityStyle(sev)),
			styled(loop, loopStyle),
			txt(command),
		}
		if withContainer {
			cells = insertAt(cells, len(cells)-3, txt(psContainer(p)))
		}
		t.add(cells...)
	}
	return t
}

// textPS is the ps view for people.
func (r *renderer) textPS(res *model.PSResult) error {
	if len(res.Processes) == 0 {
		r.line("no Node.js processes found")
	} else if err := r.table(r.psTable(res)); err != nil {
		return err
	}
	r.warningsNote(res.Warnings)
	return nil
}

// psCounts says "3 Node.js processes, 1 flagged".
func psCounts(res *model.PSResult) string {
	flagged := 0
	for _, p := range res.Processes {
		if len(p.Flags) > 0 {
			flagged++
		}
	}
	out := units.Count(len(res.Processes), "Node.js process", "Node.js processes")
	if flagged > 0 {
		out += ", " + strconv.Itoa(flagged) + " flagged"
	}
	return out
}
