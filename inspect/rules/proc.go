package rules

import (
	"fmt"
	"sort"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// ruleZombies: direct children that exited and were never reaped.
func ruleZombies(s *model.Snapshot, _ EvalContext) []model.Finding {
	var pids []int
	for _, c := range s.Children {
		if c.Zombie {
			pids = append(pids, c.PID)
		}
	}
	if len(pids) == 0 {
		return nil
	}
	listed := pids
	if len(listed) > MaxListed {
		listed = listed[:MaxListed]
	}
	return []model.Finding{{
		Code:     model.CodeZombieChildren,
		Severity: model.SeverityWarning,
		Summary:  fmt.Sprintf("%s never reaped after exiting (zombies)", units.Count(len(pids), "child process was", "child processes were")),
		Evidence: cutEvidence(evidence.Evidence{"count": evidence.Count(len(pids)), "pids": evidence.PIDs(listed)}, "pids", len(pids), len(listed)),
		Advice:   "Node reaps children on its event loop: if the loop is blocked, unblock it; children forked outside libuv (native addons) must be waited for by that code. Zombies vanish when the parent reaps them or exits.",
	}}
}

// ruleOrphans: the process, or members of its group or session, lost their parent.
func ruleOrphans(s *model.Snapshot, _ EvalContext) []model.Finding {
	var out []model.Finding
	if s.Process != nil && s.Process.Orphan {
		p := s.Process
		out = append(out, model.Finding{
			Code:     model.CodeOrphanProcess,
			Severity: model.SeverityWarning,
			Summary: fmt.Sprintf("This process lost its parent and was re-parented to pid %d; it still runs in the dead parent's process group %d",
				p.PPID, p.PGID),
			Evidence: evidence.Evidence{"pid": evidence.Int(p.PID), "ppid": evidence.Int(p.PPID), "pgid": evidence.Int(p.PGID), "sid": evidence.Int(p.SID)},
			Advice:   fmt.Sprintf("Its parent died (often by SIGKILL, which no handler sees) and left it running with its ports and memory: if it is stale, `kill %d`; make parents forward SIGTERM to their children and kill them on exit.", p.PID),
		})
	}
	// Orphans of the session are listed in the snapshot; only those of the process group
	// (children this process's group started) make a finding: a login session collects
	// unrelated orphaned jobs that say nothing about this process.
	var pids []int
	for _, o := range s.Orphans {
		if s.Process != nil && o.PGID == s.Process.PGID {
			pids = append(pids, o.PID)
		}
	}
	if len(pids) > 0 {
		sort.Ints(pids)
		listed := pids
		if len(listed) > MaxListed {
			listed = listed[:MaxListed]
		}
		out = append(out, model.Finding{
			Code:     model.CodeOrphanProcess,
			Severity: model.SeverityWarning,
			Summary:  fmt.Sprintf("%s of this process group lost %s parent and %s re-parented", units.Count(len(pids), "process", "processes"), pick(len(pids), "its", "their"), pick(len(pids), "was", "were")),
			Evidence: cutEvidence(evidence.Evidence{"count": evidence.Count(len(pids)), "pids": evidence.PIDs(listed)}, "pids", len(pids), len(listed)),
			Advice:   "These are left over from a parent that died without stopping them: check whether they are stale (`nodeinspect tree`), kill them by pid, and make parents stop their children on exit.",
		})
	}
	return out
}

func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
