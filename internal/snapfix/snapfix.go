// Package snapfix builds the small model snapshots that the tests of inspect, rules, diff
// and analyze start from, in one place: test files cannot be shared across packages.
package snapfix

import (
	"fmt"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// FDSnapshot is a snapshot of a Node.js process with a soft open-files limit of soft, n
// plain files open and the extra fds given.
func FDSnapshot(soft uint64, n int, extra ...model.FD) *model.Snapshot {
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
	hard := soft * 2
	return &model.Snapshot{
		Process: &model.Process{PID: 42, PPID: 1, PGID: 42, SID: 42, IsNode: true, Cmdline: []string{"node", "app.js"}},
		Limits:  &model.Limits{OpenFilesSoft: &soft, OpenFilesHard: &hard},
		FDs:     t,
	}
}

// TCP is a TCP socket fd in state between local and remote, with rx bytes queued.
func TCP(fd int, state, local, remote string, rx uint64, ino uint64) model.FD {
	return model.FD{FD: fd, Type: "tcp", Target: fmt.Sprintf("socket:[%d]", ino),
		Socket: &model.Socket{Proto: "tcp", State: state, Local: local, Remote: remote, RxQueue: rx, Inode: ino}}
}

// Codes lists findings as "CODE:severity", comma-separated, for a test's comparison.
func Codes(fs []model.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Code)+":"+string(f.Severity))
	}
	return strings.Join(out, ",")
}
