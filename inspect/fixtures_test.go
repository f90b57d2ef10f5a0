package inspect

import (
	"fmt"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

// Fixtures shared by this package's tests; the rules package's tests keep their own copies
// (test files cannot be shared across packages).

func u64(v uint64) *uint64 { return &v }

// fdSnapshot builds a snapshot with n generic fds plus the given extra fds.
func fdSnapshot(soft uint64, n int, extra ...model.FD) *model.Snapshot {
	t := &model.FDTable{ByType: map[string]int{}, Deleted: new(int), DeletedBytes: new(int64)}
	for i := 0; i < n; i++ {
		t.List = append(t.List, model.FD{FD: 100 + i, Type: "file", Target: fmt.Sprintf("/data/f%d", i)})
	}
	t.List = append(t.List, extra...)
	for _, fd := range t.List {
		t.ByType[fd.Type]++
		if fd.Deleted {
			*t.Deleted++
			if fd.Size != nil {
				*t.DeletedBytes += *fd.Size
			}
		}
	}
	t.Open = len(t.List)
	return &model.Snapshot{
		Process: &model.Process{PID: 42, PPID: 1, PGID: 42, SID: 42, IsNode: true, Cmdline: []string{"node", "app.js"}},
		Limits:  &model.Limits{OpenFilesSoft: u64(soft), OpenFilesHard: u64(soft * 2)},
		FDs:     t,
	}
}

func tcp(fd int, state, local, remote string, rx uint64, ino uint64) model.FD {
	return model.FD{FD: fd, Type: "tcp", Target: fmt.Sprintf("socket:[%d]", ino),
		Socket: &model.Socket{Proto: "tcp", State: state, Local: local, Remote: remote, RxQueue: rx, Inode: ino}}
}

func codes(fs []model.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Code)+":"+string(f.Severity))
	}
	return strings.Join(out, ",")
}

func heapSnapshot(rss, total, used, limit uint64) *model.Snapshot {
	return &model.Snapshot{
		Process: &model.Process{PID: 42, IsNode: true},
		Memory: &model.Memory{RSSBytes: u64(rss), Heap: &model.Heap{
			UsedBytes: u64(used), TotalBytes: u64(total), LimitBytes: u64(limit), ExternalBytes: u64(rss / 2), Source: "inspector",
		}},
	}
}

// severities maps each finding's code to its severity.
func severities(fs []model.Finding) map[string]model.Severity {
	out := map[string]model.Severity{}
	for _, f := range fs {
		out[string(f.Code)] = f.Severity
	}
	return out
}

// onlyRule is what the rules decide about one code: Evaluate's findings with that code.
func onlyRule(code model.Code, s *model.Snapshot, ctx rules.EvalContext) []model.Finding {
	var out []model.Finding
	for _, f := range rules.Evaluate(s, ctx) {
		if f.Code == code {
			out = append(out, f)
		}
	}
	return out
}

// inspectorFindings are the INSPECTOR_EXPOSED and INSPECTOR_OPEN findings of s.
func inspectorFindings(s *model.Snapshot, ctx rules.EvalContext) []model.Finding {
	return append(onlyRule(model.CodeInspectorExposed, s, ctx), onlyRule(model.CodeInspectorOpen, s, ctx)...)
}
