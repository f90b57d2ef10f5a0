// Package rules turns a Snapshot's numbers into Findings: every finding of the contract
// that one snapshot can show (Evaluate, with the facts of a live sample window in
// EvalContext), the links between findings that explain each other, and the thresholds
// they use. The growth findings that compare readings over time (watch, diff) are built by
// the growth subpackage. Rules read the model only; they collect nothing and print nothing.
package rules

import (
	"fmt"
	"sort"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules/container"
)

// EvalContext is what the rules need besides the Snapshot itself: the thresholds and facts
// gathered during collection that are not part of the JSON document.
type EvalContext struct {
	Thresholds Thresholds
	// ListenQueueAfter maps a LISTEN socket's inode to its accept-queue length re-read at
	// the end of the sample window; nil when the window was not sampled.
	ListenQueueAfter map[uint64]uint64
	// Backlogs maps a LISTEN socket's inode to its backlog size, when known (netlink).
	Backlogs map[uint64]uint64
	// InspectorPorts are the ports the inspector may listen on, from the command line (or
	// the default 9229).
	InspectorPorts []int
	// InspectorInodes are the inodes of listening sockets found to be the inspector's
	// whatever their port (the epoll instance that watches them, see inspectorsock.ByEpoll);
	// nil when not looked for.
	InspectorInodes map[uint64]bool
	// TCPQueues are the process's TCP connection queues read at the start and at the end
	// of the sample window; nil when not read (no window, or too few connections with
	// data waiting for STALLED_SOCKETS to fire).
	TCPQueues *QueueWindow
}

// Rule turns a snapshot into zero or more findings.
type Rule func(s *model.Snapshot, ctx EvalContext) []model.Finding

// Rules are the rules Evaluate runs, in order.
var Rules = []Rule{
	ruleEMFILE,
	ruleCloseWait,
	ruleDeletedFiles,
	ruleZombies,
	ruleOrphans,
	ruleEventLoop,
	ruleEventLoopSaturated,
	ruleEventLoopDelay,
	ruleListenBacklog,
	ruleStalledSockets,
	ruleInspector,
	ruleExternalMemory,
	ruleHeapNearLimit,
	ruleNoSIGTERM,
	ruleNoErrorHandlers,
	ruleReferencedHandles,
	ruleContainer,
	ruleProcessCrashed,
}

// Evaluate runs every rule and returns the findings worst first, with findings that explain
// each other linked through Related.
func Evaluate(s *model.Snapshot, ctx EvalContext) []model.Finding {
	out := []model.Finding{}
	for _, r := range Rules {
		out = append(out, r(s, ctx)...)
	}
	relate(out)
	SortFindings(out)
	return out
}

// SortFindings orders findings by severity (worst first), then by code.
func SortFindings(f []model.Finding) {
	sort.SliceStable(f, func(i, j int) bool {
		if f[i].Severity.Rank() != f[j].Severity.Rank() {
			return f[i].Severity.Rank() > f[j].Severity.Rank()
		}
		return f[i].Code < f[j].Code
	})
}

// explains lists, for a code, the codes it explains and the sentence that says how.
var explains = map[model.Code]map[model.Code]string{
	model.CodeEventLoopBlocked: {
		model.CodeZombieChildren: "the event loop is not turning, so libuv never reaps the exited children",
		model.CodeListenBacklog:  "the event loop is not turning, so nothing accepts the waiting connections",
		model.CodeStalledSockets: "the event loop is not turning, so nothing reads the connections",
	},
	model.CodeEventLoopSaturated: {
		model.CodeStalledSockets: "the event loop is busy nearly all the time, so connections wait their turn to be read",
		model.CodeListenBacklog:  "the main thread is busy nearly all the time, so connections wait to be accepted",
	},
	model.CodeCloseWaitLeak: {
		model.CodeEMFILERisk: "the CLOSE_WAIT sockets are fds that count against the limit",
	},
	model.CodeHeapNearLimit: {
		model.CodeProcessCrashed: "the V8 heap ran out",
	},
	model.CodeDeletedFilesHeld: {
		model.CodeEMFILERisk: "fds held on deleted files count against the limit",
	},
}

// relate links findings that explain each other and appends the reason to the summary of
// the explained one.
func relate(fs []model.Finding) {
	index := map[model.Code]int{}
	for i, f := range fs {
		index[f.Code] = i
	}
	for cause, effects := range explains {
		ci, ok := index[cause]
		if !ok {
			continue
		}
		for effect, why := range effects {
			ei, ok := index[effect]
			if !ok {
				continue
			}
			if effect == model.CodeEMFILERisk && !dominates(fs[ci], fs[ei]) {
				continue
			}
			fs[ci].Related = appendUnique(fs[ci].Related, effect)
			fs[ei].Related = appendUnique(fs[ei].Related, cause)
			fs[ei].Summary += " (" + why + ")"
		}
	}
}

// dominates reports whether the cause accounts for at least a tenth of the open fds, so a
// handful of CLOSE_WAIT sockets is not blamed for a limit that files exhausted.
func dominates(cause, emfile model.Finding) bool {
	open, _ := emfile.Evidence["open"].Int()
	n, _ := cause.Evidence["count"].Int()
	return open > 0 && n*10 >= open
}

func appendUnique[T comparable](list []T, v T) []T {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// percent formats a fraction as a whole percentage for summaries.
func percent(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

// ruleContainer runs the container section's rules (package container).
func ruleContainer(s *model.Snapshot, ctx EvalContext) []model.Finding {
	t := ctx.Thresholds
	return container.Findings(s, container.Thresholds{MemoryWarning: t.ContainerMemoryWarning, MemoryCritical: t.ContainerMemoryCritical,
		CPUThrottledFraction: t.CPUThrottledFraction, PidsFraction: t.PidsFraction})
}
