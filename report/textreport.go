package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// closeWaitPeersInReport is how many CLOSE_WAIT peer groups the report view lists.
const closeWaitPeersInReport = 5

// textReport is the report view: who the process is, the findings first, then one compact
// section per part of the snapshot, and a count of warnings last.
func (r *renderer) textReport(s *model.Snapshot) {
	r.rich(0, 0, r.headerLine(s)...)
	if p := s.Process; p != nil {
		r.line(r.paint(styleDim, r.fitAfter(0, "cmd "+commandLine(p.Cmdline, p.Comm))))
	}
	r.blank()

	if len(s.Findings) == 0 {
		r.line(r.paint(styleGood, "no findings"))
	} else {
		r.line(r.paint(styleBold, "FINDINGS") + "  " + findingCounts(s.Findings))
		for _, f := range s.Findings {
			r.blank()
			r.writeFinding(f)
		}
	}
	r.blank()

	r.reportFDs(s)
	r.reportSockets(s)
	r.reportMemory(s)
	r.reportContainer(s)
	r.reportChildren(s)
	r.reportOrphans(s)
	r.reportEventLoop(s)
	r.reportNode(s)
	r.warningsNote(s.Warnings)
}

// fdUsage says how many fds are open against the limits: "1010 open of 1024 (98.6%), hard
// limit 4096"; the percentage is coloured like the EMFILE_RISK finding, if any.
func fdUsage(s *model.Snapshot) []span {
	open := strconv.Itoa(s.FDs.Open) + " open"
	l := s.Limits
	switch {
	case l == nil:
		return []span{sp(open + ", limit " + notAvailable)}
	case l.OpenFilesSoft == nil:
		return []span{sp(open + ", no soft limit (unlimited)")}
	}
	soft := *l.OpenFilesSoft
	out := []span{sp(open + " of " + strconv.FormatUint(soft, 10))}
	if pct := ratioPercent(uint64(max(s.FDs.Open, 0)), soft); pct != "" {
		out = append(out, sp(" ("), span{pct, severityStyle(worstSeverity(s.Findings, model.CodeEMFILERisk))}, sp(")"))
	}
	if l.OpenFilesHard == nil {
		return append(out, sp(", hard limit unlimited"))
	}
	return append(out, sp(", hard limit "+strconv.FormatUint(*l.OpenFilesHard, 10)))
}

// deletedText is "2 deleted files holding 2.6 GiB".
func deletedText(f *model.FDTable) string {
	n, bytes, _ := f.DeletedFiles()
	return units.Count(n, "deleted file", "deleted files") + " holding " + units.SignedBytes(bytes)
}

func (r *renderer) reportFDs(s *model.Snapshot) {
	if s.FDs == nil {
		r.field("fds", sp(missing(s.Warnings)))
		return
	}
	f := s.FDs
	r.field("fds", fdUsage(s)...)
	if len(f.ByType) > 0 {
		r.more(append([]span{sp("by type: ")}, joinCounts(f.ByType, countsByValue(f.ByType), nil)...)...)
	}
	if n, _, _ := f.DeletedFiles(); n > 0 {
		r.more(span{deletedText(f) + " (still open)", styleWarning})
	}
}

// closeWaitStyle colours CLOSE_WAIT like the CLOSE_WAIT_LEAK finding (yellow without one:
// any CLOSE_WAIT deserves a look).
func closeWaitStyle(fs []model.Finding) func(string) style {
	sev := worstSeverity(fs, model.CodeCloseWaitLeak)
	return func(state string) style {
		if state != "CLOSE_WAIT" {
			return styleNone
		}
		if sev == "" {
			return styleWarning
		}
		return severityStyle(sev)
	}
}

func (r *renderer) reportSockets(s *model.Snapshot) {
	if s.Sockets == nil {
		r.field("sockets", sp(missing(s.Warnings)))
		return
	}
	so := s.Sockets
	if len(so.ByState) == 0 {
		r.field("sockets", sp("no TCP sockets"))
	} else {
		r.field("sockets", append([]span{sp("by state: ")}, joinCounts(so.ByState, stateOrder(so.ByState), closeWaitStyle(s.Findings))...)...)
	}
	if len(so.ByProto) > 0 {
		r.more(append([]span{sp("by protocol: ")}, joinCounts(so.ByProto, countsByValue(so.ByProto), nil)...)...)
	}
	var cw []model.PeerGroup
	for _, g := range so.ByPeer {
		if g.State == "CLOSE_WAIT" {
			cw = append(cw, g)
		}
	}
	limit := closeWaitPeersInReport
	if r.verbose {
		limit = len(cw)
	}
	st := closeWaitStyle(s.Findings)("CLOSE_WAIT")
	for i, g := range cw {
		if i == limit {
			r.more(sp(fmt.Sprintf("%s and %d more CLOSE_WAIT peers (nodeinspect sockets%s)", r.ellipsis(), len(cw)-limit, pidSuffix(s))))
			break
		}
		r.more(span{"CLOSE_WAIT", st}, sp(" "+peerSentence(g, r.ellipsis())))
	}
	if so.Unmatched > 0 {
		r.more(sp(units.Count(so.Unmatched, "socket fd", "socket fds") + " matched no socket table"))
	}
}

// pidSuffix is " <pid>" for a command hint, or "" when the pid is unknown.
func pidSuffix(s *model.Snapshot) string {
	if s.Process == nil {
		return ""
	}
	return " " + strconv.Itoa(s.Process.PID)
}

// peerSentence is "400 from 10.0.0.5 on local port 8080" for connections clients opened,
// "400 to 10.0.0.9:5432 (outbound, from local ports 40000-40399)" for connections this
// process opened.
func peerSentence(g model.PeerGroup, ellipsis string) string {
	if g.Direction == model.DirectionOutbound && g.RemotePort != nil {
		out := strconv.Itoa(g.Count) + " to " + safe(peerEndpoint(g)) + " (outbound"
		if len(g.LocalPorts) > 0 {
			word := "port"
			if len(g.LocalPorts) > 1 {
				word = "ports"
			}
			out += ", from local " + word + " " + compressPorts(g.LocalPorts, 3, ellipsis)
		}
		return out + ")"
	}
	out := strconv.Itoa(g.Count) + " from " + safe(g.Remote)
	switch len(g.LocalPorts) {
	case 0:
		return out
	case 1:
		return out + " on local port " + strconv.Itoa(g.LocalPorts[0])
	}
	return out + " on local ports " + compressPorts(g.LocalPorts, 3, ellipsis)
}

// memoryLine is "rss 1.2 GiB, pss 1.1 GiB, anon …, file …, swap …, peak …".
func memoryLine(m *model.Memory) string {
	parts := []string{
		"rss " + optBytes(m.RSSBytes),
		"pss " + optBytes(m.PSSBytes),
		"anon " + optBytes(m.AnonBytes),
		"file " + optBytes(m.FileBytes),
		"swap " + optBytes(m.SwapBytes),
		"peak " + optBytes(m.PeakRSSBytes),
	}
	if m.HostTotalBytes != nil && m.RSSBytes != nil {
		if pct := ratioPercent(*m.RSSBytes, *m.HostTotalBytes); pct != "" {
			parts[0] += " (" + pct + " of host)"
		}
	}
	return strings.Join(parts, ", ")
}

// heapLine is "used 80 MiB of 120 MiB, limit 4.0 GiB (2.0% used), external 10 MiB, array
// buffers 2.0 MiB".
func heapLine(h *model.Heap) string {
	out := "used " + optBytes(h.UsedBytes) + " of " + optBytes(h.TotalBytes) + ", limit " + optBytes(h.LimitBytes)
	if h.UsedBytes != nil && h.LimitBytes != nil {
		if pct := ratioPercent(*h.UsedBytes, *h.LimitBytes); pct != "" {
			out += " (" + pct + " used)"
		}
	}
	out += ", external " + optBytes(h.ExternalBytes) + ", array buffers " + optBytes(h.ArrayBuffersBytes)
	if h.OldSpaceUsedBytes != nil || h.OldSpaceLimitBytes != nil {
		// The old generation is what runs out (HEAP_NEAR_LIMIT measures it).
		out += "; old generation " + optBytes(h.OldSpaceUsedBytes) + " of " + optBytes(h.OldSpaceLimitBytes)
		if h.OldSpaceUsedBytes != nil && h.OldSpaceLimitBytes != nil {
			if pct := ratioPercent(*h.OldSpaceUsedBytes, *h.OldSpaceLimitBytes); pct != "" {
				out += " (" + pct + ")"
			}
		}
	}
	return out
}

// heapSource names where the heap numbers come from: " (inspector)".
func heapSource(h *model.Heap) string {
	if h.Source == "" {
		return ""
	}
	return " (" + safe(h.Source) + ")"
}

func (r *renderer) reportMemory(s *model.Snapshot) {
	if s.Memory == nil {
		r.field("memory", sp(missing(s.Warnings)))
		return
	}
	r.field("memory", sp(memoryLine(s.Memory)))
	if h := s.Memory.Heap; h != nil {
		st := severityStyle(worstSeverity(s.Findings, model.CodeHeapNearLimit))
		r.more(span{"V8 heap" + heapSource(h) + ": " + heapLine(h), st})
	}
}

func (r *renderer) reportChildren(s *model.Snapshot) {
	if s.Children == nil {
		r.field("children", sp(missing(s.Warnings)))
		return
	}
	sum, st := childrenSummary(s.Children)
	r.field("children", span{sum, st})
	lines := r.flattenTree(s.Children)
	limit := treeMaxInReport
	if r.verbose {
		limit = len(lines)
	}
	for i, l := range lines {
		if i == limit {
			r.more(sp(fmt.Sprintf("%s and %d more (nodeinspect tree%s)", r.ellipsis(), len(lines)-limit, pidSuffix(s))))
			break
		}
		r.buf.WriteString(strings.Repeat(" ", labelWidth))
		r.treeRow(labelWidth, l)
	}
}

func (r *renderer) reportOrphans(s *model.Snapshot) {
	switch {
	case s.Orphans == nil:
		r.field("orphans", sp(missing(s.Warnings)))
	case len(s.Orphans) == 0:
		r.field("orphans", sp("none"))
	default:
		r.field("orphans", span{units.Count(len(s.Orphans), "process", "processes"), styleWarning}, sp(" of this process group or session lost their parent"))
		for _, o := range s.Orphans {
			r.line(strings.Repeat(" ", labelWidth) + r.fitAfter(labelWidth, orphanText(o)))
		}
	}
}

// loopVerdict describes the event loop sample in one line and gives its style.
func loopVerdict(l *model.EventLoop) (string, style) {
	if l == nil {
		return "not sampled", styleNone
	}
	window := formatDuration(msDuration(l.WindowMS))
	var b strings.Builder
	st := styleNone
	rate := ""
	if l.SyscallsPerSecond != nil {
		rate = fmt.Sprintf("%.0f read/write system calls a second", *l.SyscallsPerSecond)
	}
	switch {
	case l.Verdict == "turning" && l.InEpoll == 0 && rate != "":
		fmt.Fprintf(&b, "turning: %s over %s", rate, window)
	case l.Verdict == "turning":
		fmt.Fprintf(&b, "turning: waiting for events in %d of %d samples over %s", l.InEpoll, l.Samples, window)
	case l.Verdict == "saturated":
		st = styleWarning
		busy := "nearly all"
		if l.BusyPercent != nil {
			busy = formatPercent(*l.BusyPercent) + " of"
		}
		if rate == "" {
			rate = "it turns"
		}
		fmt.Fprintf(&b, "SATURATED: %s, but the main thread was busy %s %s", rate, busy, window)
	case l.Verdict == "blocked" && l.Reason == "spawn_sync":
		st = styleWarning
		kids := make([]string, 0, len(l.WaitingFor))
		for _, k := range l.WaitingFor {
			kids = append(kids, fmt.Sprintf("%d (%s)", k.PID, safe(k.Command)))
		}
		fmt.Fprintf(&b, "BLOCKED: waiting for child %s in a synchronous spawn over %s", strings.Join(kids, ", "), window)
	case l.Verdict == "blocked":
		st = styleWarning
		fmt.Fprintf(&b, "BLOCKED: no progress (never seen waiting for events, no system call completed) in %d samples over %s", l.Samples, window)
	default:
		verdict := safe(l.Verdict)
		if verdict == "" {
			verdict = "unknown"
		}
		fmt.Fprintf(&b, "%s: %d samples over %s", verdict, l.Samples, window)
	}
	if len(l.Seen) > 0 {
		parts := make([]string, 0, len(l.Seen))
		for _, k := range countsByValue(l.Seen) {
			parts = append(parts, safe(k)+" "+strconv.Itoa(l.Seen[k]))
		}
		b.WriteString("; seen " + strings.Join(parts, ", "))
	}
	if l.BusyPercent != nil && l.Verdict != "saturated" {
		b.WriteString("; main thread busy " + formatPercent(*l.BusyPercent))
	} else if l.CPUPercent != nil {
		b.WriteString("; main thread cpu " + formatPercent(*l.CPUPercent))
	}
	if l.Source != "" {
		b.WriteString(" (from " + safe(l.Source) + ")")
	}
	if l.BlockedIn != "" {
		b.WriteString("; blocked in " + safe(l.BlockedIn))
	}
	if d := l.Delay; d != nil {
		if d.P99MS != nil && d.P50MS != nil && d.MaxMS != nil {
			fmt.Fprintf(&b, "; delay p50 %s, p99 %s, max %s", formatDuration(msFloat(*d.P50MS)), formatDuration(msFloat(*d.P99MS)), formatDuration(msFloat(*d.MaxMS)))
		} else {
			b.WriteString("; delay not measured (no timer fired)")
		}
		if d.Utilization != nil {
			b.WriteString(", loop busy " + formatPercent(*d.Utilization*100))
		}
		b.WriteString(" (measured in the process)")
	}
	return b.String(), st
}

// msFloat turns fractional milliseconds into a duration.
func msFloat(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func (r *renderer) reportEventLoop(s *model.Snapshot) {
	text, st := loopVerdict(s.EventLoop)
	r.field("event loop", span{text, st})
}

// peerEndpoint is the remote end of a peer group: "host:port" ("[v6]:port") for outbound
// groups, which share the remote port, the host alone otherwise.
func peerEndpoint(g model.PeerGroup) string {
	if g.Direction != model.DirectionOutbound || g.RemotePort == nil {
		return g.Remote
	}
	if strings.Contains(g.Remote, ":") {
		return "[" + g.Remote + "]:" + strconv.Itoa(*g.RemotePort)
	}
	return g.Remote + ":" + strconv.Itoa(*g.RemotePort)
}
