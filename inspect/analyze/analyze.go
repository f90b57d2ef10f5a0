package analyze

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/heaplimit"
	"github.com/nodeinspect/nodeinspect/inspect/inspectorsock"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/inspect/nodereport"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

// FromNodeReport turns a Node.js diagnostic report into a Snapshot, so the same rules and
// renderers apply: the process identity from its header, the V8 heap and RSS, the libuv
// handles (and the fds they hold), the open-files limit and the error it was written for.
// What a report does not hold (PSS, the whole fd table, socket states, children) stays nil,
// with a warning. path is the report's file, for the snapshot's source.
func FromNodeReport(r *nodereport.Report, path string, thresholds rules.Thresholds) *model.Snapshot {
	s := &model.Snapshot{
		Schema:     model.Schema,
		Source:     "report",
		SourceFile: path,
		Findings:   []model.Finding{},
		Warnings:   append([]string{}, r.Warnings...),
	}
	s.TakenAt = reportTime(r.DumpTime)
	comm := ""
	if len(r.Cmdline) > 0 {
		comm = filepath.Base(r.Cmdline[0])
	}
	cmdline := r.Cmdline
	if cmdline == nil {
		cmdline = []string{}
	}
	s.Process = &model.Process{PID: r.PID, Comm: comm, Cmdline: cmdline, UID: -1, IsNode: true, NodeBy: "report", State: ""}
	if r.OpenFilesKnown {
		s.Limits = &model.Limits{OpenFilesSoft: r.OpenFilesSoft, OpenFilesHard: r.OpenFilesHard}
	} else {
		s.Warnings = append(s.Warnings, "the report has no open-files limit (userLimits): EMFILE risk not judged")
	}
	s.Memory = &model.Memory{RSSBytes: r.RSSBytes, Heap: &model.Heap{
		UsedBytes: r.Heap.UsedBytes, TotalBytes: r.Heap.TotalBytes, LimitBytes: r.Heap.LimitBytes,
		ExternalBytes: r.Heap.ExternalBytes, ArrayBuffersBytes: r.Heap.ArrayBuffersBytes, Source: "report",
		OldSpaceUsedBytes: heaplimit.OldSpaceUsed(r.HeapSpacesUsed),
	}}
	nodeOptions := ""
	if r.NodeOptions != nil {
		nodeOptions = *r.NodeOptions
	}
	heaplimit.SetOldSpaceLimit(s.Memory.Heap, heaplimit.NodeOptionsOf(r.Cmdline), nodeOptions)
	s.Node = &model.NodeInfo{Version: r.NodeVersion}
	if r.Error != nil {
		stack := r.Error.Stack
		if stack == nil {
			stack = []string{}
		}
		s.Node.Error = &model.NodeError{Message: r.Error.Message, Code: r.Error.Code, Stack: stack, Trigger: r.Trigger}
	}
	s.Handles = make([]model.Handle, 0, len(r.Handles))
	for _, h := range r.Handles {
		if h.Type == "loop" {
			continue
		}
		s.Handles = append(s.Handles, model.Handle{
			Type: h.Type, Active: h.Active, Referenced: h.Referenced, KeepsAlive: h.Active && h.Referenced,
			FD: h.FD, Local: h.Local, Remote: h.Remote, Detail: h.Detail,
		})
	}
	if t := fdsFromHandles(s.Handles); t.Open > 0 {
		s.FDs = t
		s.Warnings = append(s.Warnings, fmt.Sprintf("fds counted from the report's libuv handles (%d hold an fd): files opened with fs.open and fds of native code are not in a report, so the real count is higher; deleted files are not known", t.Open))
	} else {
		// No handle holds an fd (or the report has no libuv section): the count is not
		// known, which is not zero.
		s.Warnings = append(s.Warnings, "the report lists no handle that holds an fd: open fds unknown (fds is null)")
	}
	s.Warnings = append(s.Warnings, "a report holds no ppid, process group, user, state, PSS, socket states, child processes or listener counts: those parts are not judged (their keys are null)")
	s.Findings = rules.Evaluate(s, rules.EvalContext{Thresholds: thresholds})
	return s
}

// handleFDTypes maps libuv handle types to the contract's fd types.
var handleFDTypes = map[string]string{
	"tcp": "tcp", "udp": "udp", "pipe": "pipe", "tty": "char", "fs_event": "inotify", "signal": "pipe", "poll": "unknown",
}

// fdsFromHandles builds the part of an fd table that libuv handles show. Deleted and
// DeletedBytes stay nil: a report lists no files.
func fdsFromHandles(handles []model.Handle) *model.FDTable {
	t := &model.FDTable{ByType: map[string]int{}, List: []model.FD{}}
	for _, h := range handles {
		if h.FD == nil {
			continue
		}
		typ, ok := handleFDTypes[h.Type]
		if !ok {
			typ = "unknown"
		}
		target := h.Local
		if h.Remote != "" {
			target += " -> " + h.Remote
		}
		fd := model.FD{FD: *h.FD, Type: typ, Target: target,
			Handle: &model.FDHandle{Type: h.Type, Active: h.Active, Referenced: h.Referenced, KeepsAlive: h.KeepsAlive}}
		t.List = append(t.List, fd)
		t.ByType[typ]++
		t.Open++
	}
	sort.Slice(t.List, func(i, j int) bool { return t.List[i].FD < t.List[j].FD })
	return t
}

// reportTime parses a report's dumpEventTime ("2026-11-22T09:30:00Z" or Node's older
// "2019-02-07T11:02:05Z" forms); the zero time when it cannot.
func reportTime(v string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// Reevaluate runs the rules again over a saved snapshot with the given thresholds.
// LISTEN_BACKLOG and STALLED_SOCKETS need the second read of the queues that only a live
// collection makes, and an inspector found through its epoll instance (on a random port)
// needs the live process too: saved ones are kept as they were.
func Reevaluate(s *model.Snapshot, thresholds rules.Thresholds) {
	ctx := rules.EvalContext{Thresholds: thresholds}
	if s.Process != nil && s.Process.IsNode {
		ctx.InspectorPorts = inspectorsock.Ports(s.Process.Cmdline, "")
	}
	if h := s.Memory; h != nil && h.Heap != nil && h.Heap.OldSpaceLimitBytes == nil && s.Process != nil {
		// A snapshot saved before the old generation was measured: its limit from the
		// command line (NODE_OPTIONS is not in a snapshot).
		heaplimit.SetOldSpaceLimit(h.Heap, heaplimit.NodeOptionsOf(s.Process.Cmdline), "")
	}
	saved := s.Findings
	s.Findings = rules.Evaluate(s, ctx)
	found := map[string]bool{}
	for _, f := range s.Findings {
		found[string(f.Code)+" "+fmt.Sprint(f.Evidence["port"])] = true
	}
	for _, f := range saved {
		switch {
		case f.Code == model.CodeListenBacklog, f.Code == model.CodeStalledSockets:
		case strings.HasPrefix(string(f.Code), "INSPECTOR_") && f.Evidence["detected_by"] == evidence.Text("epoll") && !found[string(f.Code)+" "+fmt.Sprint(f.Evidence["port"])]:
		default:
			continue
		}
		s.Findings = append(s.Findings, f)
	}
	rules.SortFindings(s.Findings)
}
