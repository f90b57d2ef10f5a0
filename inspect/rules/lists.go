package rules

import (
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

// Connections are grouped by direction, so that a group names what the connections have
// in common. An inbound connection (accepted by one of the process's listening sockets)
// shares its local port with the listener and comes from a client's random port: it is
// grouped by local port and client host. An outbound connection (opened by the process)
// has a random local port and goes to a server's fixed port: it is grouped by that remote
// host and port. Grouping outbound connections by local port would make one group per
// connection and hide the upstream that leaks.

// lessGroup orders groups by count, largest first, then by key.
func lessGroup(counts map[model.ConnGroup]int) func(a, b model.ConnGroup) bool {
	return func(a, b model.ConnGroup) bool {
		if counts[a] != counts[b] {
			return counts[a] > counts[b]
		}
		if a.Direction != b.Direction {
			return a.Direction < b.Direction
		}
		if a.Remote != b.Remote {
			return a.Remote < b.Remote
		}
		return a.Port < b.Port
	}
}

// markCut records in evidence that a list was cut: "<name>_total" holds the full count
// and "truncated" is true. Nothing is added for a list that was not cut.
func markCut(ev evidence.Evidence, name string, total, listed int) {
	if total > listed {
		ev[name+"_total"] = evidence.Count(total)
		ev["truncated"] = evidence.Flag(true)
	}
}

// cutEvidence is markCut that returns the evidence, for a finding built in one expression.
func cutEvidence(ev evidence.Evidence, name string, total, listed int) evidence.Evidence {
	markCut(ev, name, total, listed)
	return ev
}
