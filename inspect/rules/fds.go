package rules

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// MaxListed bounds the fds, pids or groups listed in one finding's evidence.
const MaxListed = 20

// ruleEMFILE: open fds against the soft RLIMIT_NOFILE.
func ruleEMFILE(s *model.Snapshot, ctx EvalContext) []model.Finding {
	if s.FDs == nil || s.Limits == nil || s.Limits.OpenFilesSoft == nil || *s.Limits.OpenFilesSoft == 0 {
		return nil
	}
	soft := *s.Limits.OpenFilesSoft
	frac := float64(s.FDs.Open) / float64(soft)
	th := ctx.Thresholds
	sev := model.SeverityWarning
	switch {
	case frac >= th.EMFILECritical:
		sev = model.SeverityCritical
	case frac >= th.EMFILEWarning:
	default:
		return nil
	}
	ev := evidence.Evidence{
		"open":       evidence.Count(s.FDs.Open),
		"soft_limit": evidence.Count(soft),
		"percent":    evidence.Percent(units.Round(frac*100, 1)),
		"by_type":    evidence.CountsBy(s.FDs.ByType),
	}
	if s.Limits.OpenFilesHard != nil {
		ev["hard_limit"] = evidence.Count(*s.Limits.OpenFilesHard)
	} else {
		ev["hard_limit"] = evidence.Unlimited()
	}
	top := topType(s.FDs.ByType)
	if top == "" {
		// Only the count is known (the table was unreadable): say so instead of a type.
		ev["by_type"] = evidence.Null()
		return []model.Finding{{
			Code:     model.CodeEMFILERisk,
			Severity: sev,
			Summary: fmt.Sprintf("%d of %d file descriptors in use (%s of the soft limit): new sockets and files will soon fail with EMFILE",
				s.FDs.Open, soft, percent(frac)),
			Evidence: ev,
			Advice:   fmt.Sprintf("Find what accumulates before raising the limit (`sudo nodeinspect fds %d` shows which fds they are); `ulimit -n` or systemd LimitNOFILE= only buys time.", s.Process.PID),
		}}
	}
	return []model.Finding{{
		Code:     model.CodeEMFILERisk,
		Severity: sev,
		Summary: fmt.Sprintf("%d of %d file descriptors in use (%s of the soft limit, mostly %s): new sockets and files will soon fail with EMFILE",
			s.FDs.Open, soft, percent(frac), top),
		Evidence: ev,
		Advice:   fmt.Sprintf("Find what accumulates before raising the limit (most fds are %s: see `nodeinspect fds %d`); `ulimit -n` or systemd LimitNOFILE= only buys time.", top, s.Process.PID),
	}}
}

// topType names the most common fd type.
func topType(byType map[string]int) string {
	best, n := "", -1
	for t, c := range byType {
		if c > n || (c == n && t < best) {
			best, n = t, c
		}
	}
	return best
}

// ruleCloseWait: TCP sockets the peer closed and this process never did, grouped by
// direction (see model.ConnGroup): by local port for connections clients opened to
// this process, by upstream host and port for connections it opened itself.
func ruleCloseWait(s *model.Snapshot, ctx EvalContext) []model.Finding {
	if s.FDs == nil {
		return nil
	}
	listeners := model.NewListenerSet(s.FDs.List)
	groups := map[model.ConnGroup]int{}
	var fds []int
	var closeWait []model.FD
	count := 0
	for _, fd := range s.FDs.List {
		if fd.Socket == nil || fd.Type != "tcp" || fd.Socket.State != "CLOSE_WAIT" {
			continue
		}
		count++
		closeWait = append(closeWait, fd)
		if len(fds) < MaxListed {
			fds = append(fds, fd.FD)
		}
		groups[listeners.GroupOf(fd.Socket)]++
	}
	th := ctx.Thresholds
	if count == 0 || count < th.CloseWaitWarning {
		return nil
	}
	sev := model.SeverityWarning
	if count >= th.CloseWaitCritical {
		sev = model.SeverityCritical
	}
	keys := make([]model.ConnGroup, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	less := lessGroup(groups)
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
	list := []evidence.Evidence{}
	for i, k := range keys {
		if i == MaxListed {
			break
		}
		g := k.Evidence()
		g["count"] = evidence.Count(groups[k])
		list = append(list, g)
	}
	top := keys[0]
	summary := fmt.Sprintf("%d TCP sockets in CLOSE_WAIT: the peer closed them and this process never did (most: %d %s)",
		count, groups[top], top.Phrase())
	ev := evidence.Evidence{"count": evidence.Count(count), "groups": evidence.Objects(list), "fds": evidence.FDs(fds), "groups_total": evidence.Count(len(keys))}
	markCut(ev, "fds", count, len(fds))
	markCut(ev, "groups", len(keys), len(list))
	if owners, oev := ownersSummary(closeWait, "CLOSE_WAIT sockets"); owners != "" {
		summary += "; " + owners
		ev["owners"] = evidence.Object(oev)
	}
	advice := "The code never calls socket.end()/destroy() after the peer's FIN: check 'end' and error paths, servers created with allowHalfOpen: true, and HTTP responses that are never consumed or destroyed."
	if top.Direction == model.DirectionOutbound {
		advice = fmt.Sprintf("These are connections this process opened to %s and never closed after the server did: HTTP responses whose body is never consumed (call res.resume() or destroy() them; with fetch/undici read or cancel the body) and clients or pools that never release connections.", model.JoinHostPort(top.Remote, top.Port))
	}
	return []model.Finding{{
		Code:     model.CodeCloseWaitLeak,
		Severity: sev,
		Summary:  summary,
		Evidence: ev,
		Advice:   advice,
	}}
}

// ruleDeletedFiles: fds on unlinked files keep their disk space.
func ruleDeletedFiles(s *model.Snapshot, _ EvalContext) []model.Finding {
	deleted, deletedBytes, ok := s.FDs.DeletedFiles()
	if !ok || deleted == 0 {
		return nil
	}
	var files []evidence.Evidence
	held := 0
	for _, fd := range s.FDs.List {
		if !fd.Deleted || model.IsAnonymousMemory(fd.Target) {
			continue
		}
		held++
		if len(files) == MaxListed {
			continue
		}
		files = append(files, evidence.Evidence{"fd": evidence.Int(fd.FD), "path": evidence.Text(fd.Target), "size_bytes": evidence.Opt(fd.Size, evidence.Bytes[int64])})
	}
	ev := evidence.Evidence{"count": evidence.Count(deleted), "bytes": evidence.Bytes(deletedBytes), "files": evidence.Objects(files)}
	markCut(ev, "files", held, len(files))
	return []model.Finding{{
		Code:     model.CodeDeletedFilesHeld,
		Severity: model.SeverityWarning,
		Summary: fmt.Sprintf("%s still open, holding %s of disk space that df counts and du cannot find",
			units.Count(deleted, "deleted file is", "deleted files are"), units.SignedBytes(deletedBytes)),
		Evidence: ev,
		Advice:   "Close these fds (a log rotated or a temp file unlinked while open keeps its space until closed): reopen log files on rotation, close streams on every path; restarting the process frees the space now.",
	}}
}

// ruleListenBacklog: connections waiting in an accept queue that nobody drains.
func ruleListenBacklog(s *model.Snapshot, ctx EvalContext) []model.Finding {
	if s.FDs == nil {
		return nil
	}
	var listeners []evidence.Evidence
	total := 0
	for _, fd := range s.FDs.List {
		so := fd.Socket
		if so == nil || fd.Type != "tcp" || so.State != "LISTEN" || so.RxQueue == 0 {
			continue
		}
		after, resampled := ctx.ListenQueueAfter[so.Inode]
		backlog := ctx.Backlogs[so.Inode]
		stuck := resampled && after > 0
		full := backlog > 0 && float64(so.RxQueue) >= ctx.Thresholds.BacklogFraction*float64(backlog)
		if !stuck && !full {
			continue
		}
		l := evidence.Evidence{"fd": evidence.Int(fd.FD), "local": evidence.Text(so.Local), "queued": evidence.Count(so.RxQueue)}
		if resampled {
			l["queued_after_window"] = evidence.Count(after)
		}
		if backlog > 0 {
			l["backlog"] = evidence.Count(backlog)
		} else {
			l["backlog"] = evidence.Null()
		}
		listeners = append(listeners, l)
		total += int(so.RxQueue)
	}
	if len(listeners) == 0 {
		return nil
	}
	return []model.Finding{{
		Code:     model.CodeListenBacklog,
		Severity: model.SeverityWarning,
		Summary: fmt.Sprintf("%s in the accept queue of %s and nobody accepts them",
			units.Count(total, "connection waits", "connections wait"), units.Count(len(listeners), "listening socket", "listening sockets")),
		Evidence: evidence.Evidence{"listeners": evidence.Objects(listeners)},
		Advice:   "The server is not calling accept: its event loop is blocked or the server was paused; clients see connect succeed and then hang. Unblock the loop, or shed load in front of it.",
	}}
}

// ruleInspector: the inspector's port among the process's listening sockets.
func ruleInspector(s *model.Snapshot, ctx EvalContext) []model.Finding {
	if s.FDs == nil || (len(ctx.InspectorPorts) == 0 && len(ctx.InspectorInodes) == 0) {
		return nil
	}
	var out []model.Finding
	for _, fd := range s.FDs.List {
		so := fd.Socket
		if so == nil || fd.Type != "tcp" || so.State != "LISTEN" {
			continue
		}
		port := model.PortOf(so.Local)
		by := "port"
		switch {
		case ctx.InspectorInodes[so.Inode]:
			// Its own thread's epoll watches it (inspectorsock.ByEpoll): found on any port.
			by = "epoll"
		case slices.Contains(ctx.InspectorPorts, port):
		default:
			continue
		}
		ev := evidence.Evidence{"fd": evidence.Int(fd.FD), "local": evidence.Text(so.Local), "port": evidence.Int(port), "detected_by": evidence.Text(by)}
		if isLoopback(model.HostOf(so.Local)) {
			out = append(out, model.Finding{
				Code: model.CodeInspectorOpen, Severity: model.SeverityInfo,
				Summary:  fmt.Sprintf("The Node.js inspector listens on %s (loopback only)", so.Local),
				Evidence: ev,
				Advice:   "Anyone who can log in to this host can run code in this process through it; turn it off in production (drop --inspect) unless you are debugging now.",
			})
		} else {
			out = append(out, model.Finding{
				Code: model.CodeInspectorExposed, Severity: model.SeverityCritical,
				Summary:  fmt.Sprintf("The Node.js inspector listens on %s, reachable from the network: anyone who can connect can run code in this process", so.Local),
				Evidence: ev,
				Advice:   "Restart without --inspect (or bind it to 127.0.0.1 and use an SSH tunnel), and firewall the port now.",
			})
		}
	}
	return out
}

// isLoopback reports whether an address is loopback (127.0.0.0/8, ::1, v4-mapped loopback).
func isLoopback(host string) bool {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return a.Unmap().IsLoopback()
}
