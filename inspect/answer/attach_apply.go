package answer

import (
	"fmt"
	"sort"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/heaplimit"
	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// applyAnswer adds what the process said to the snapshot: Node's version and listeners,
// the V8 heap (when memory was collected), the libuv handles, joined to the fd table.
func (col *Into) ApplyAnswer(ans *attach.Answer) {
	s := col.Snap
	info := &model.NodeInfo{Version: ans.Version, Listeners: ans.Listeners}
	if ans.Resources != nil {
		info.ActiveResources = map[string]int{}
		for _, r := range ans.Resources {
			info.ActiveResources[r]++
		}
	}
	s.Node = info
	if s.Memory != nil && ans.Memory != nil {
		m := ans.Memory
		h := &model.Heap{Source: "inspector", UsedBytes: Ptr(m.HeapUsed), TotalBytes: Ptr(m.HeapTotal), ExternalBytes: Ptr(m.External), ArrayBuffersBytes: m.ArrayBuffers}
		if ans.Heap != nil {
			h.LimitBytes = Ptr(ans.Heap.HeapSizeLimit)
		}
		h.OldSpaceUsedBytes = OldSpaceUsedOfAttach(ans.Spaces)
		args := ans.ExecArgv
		if args == nil && s.Process != nil {
			args = heaplimit.NodeOptionsOf(s.Process.Cmdline)
		}
		heaplimit.SetOldSpaceLimit(h, args, col.NodeOptions())
		s.Memory.Heap = h
	}
	if ans.Handles != nil {
		s.Handles = make([]model.Handle, 0, len(ans.Handles))
		for _, h := range ans.Handles {
			if h.Type == "loop" { // the loop itself, not a handle
				continue
			}
			s.Handles = append(s.Handles, handleFromAttach(h))
		}
		joinHandles(s)
	} else {
		col.Warn("attach: libuv handles not listed: this Node.js has no process.report.excludeNetwork (added in 20.13 and 22.0), and without it the report would look up the host name of every socket on the process's main thread")
	}
	keys := make([]string, 0, len(ans.Errors))
	for k := range ans.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		col.Warn("attach: the process could not tell its %s: %s", k, ans.Errors[k])
	}
}

// handleFromAttach converts one libuv handle of the inspector's answer.
func handleFromAttach(h attach.Handle) model.Handle {
	out := model.Handle{Type: h.Type, Active: h.Active, Referenced: h.Referenced == nil || *h.Referenced, FD: h.FD, Local: h.Local.String(), Remote: h.Remote.String()}
	if out.FD != nil && *out.FD < 0 {
		out.FD = nil
	}
	if out.Local == "" && h.Name != "" {
		out.Local = h.Name
	}
	out.KeepsAlive = out.Active && out.Referenced
	switch {
	case h.Type == "timer" && h.FiresInMS != nil && h.Active:
		out.Detail = fmt.Sprintf("fires in %.0f ms", *h.FiresInMS)
		if h.Repeat != nil && *h.Repeat > 0 {
			out.Detail += fmt.Sprintf(", repeats every %d ms", *h.Repeat)
		}
	case h.PID != nil:
		out.Detail = fmt.Sprintf("child pid %d", *h.PID)
	case h.Signal != "":
		out.Detail = h.Signal
	case h.Signum != nil:
		out.Detail = fmt.Sprintf("signal %d", *h.Signum)
	case h.Filename != "":
		out.Detail = h.Filename
	}
	return out
}

// joinHandles marks each fd of the table with the handle that owns it.
func joinHandles(s *model.Snapshot) {
	if s.FDs == nil {
		return
	}
	byFD := map[int]*model.Handle{}
	for i := range s.Handles {
		if h := &s.Handles[i]; h.FD != nil {
			byFD[*h.FD] = h
		}
	}
	for i := range s.FDs.List {
		if h, ok := byFD[s.FDs.List[i].FD]; ok {
			s.FDs.List[i].Handle = &model.FDHandle{Type: h.Type, Active: h.Active, Referenced: h.Referenced, KeepsAlive: h.KeepsAlive}
		}
	}
}

func Ptr[T any](v T) *T { return &v }

// oldSpaceUsedOfAttach is the old generation's used bytes from the target's heap spaces.
func OldSpaceUsedOfAttach(spaces []attach.HeapSpace) *uint64 {
	if spaces == nil {
		return nil
	}
	used := make(map[string]uint64, len(spaces))
	for _, sp := range spaces {
		used[sp.Name] += sp.Used
	}
	return heaplimit.OldSpaceUsed(used)
}
