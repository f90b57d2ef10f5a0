package rules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

// ownersSummary says who owns the sockets of fds (CLOSE_WAIT_LEAK, STALLED_SOCKETS): "38
// of 40 CLOSE_WAIT sockets were accepted by the http.Server on :3000; requests in flight:
// POST /upload (31), GET /health (7)". what names the sockets ("CLOSE_WAIT sockets"). It
// returns "" and nil when no owner is known, else the sentence and the evidence.
func ownersSummary(fds []model.FD, what string) (string, evidence.Evidence) {
	total, known := len(fds), 0
	servers := map[string]int{}
	requests := map[string]int{}
	oldest := map[string]int64{}
	atLeast := map[string]bool{} // kinds whose oldest age is a lower bound
	upstreams := map[string]int{}
	for _, fd := range fds {
		o := fd.Owner
		if o == nil {
			continue
		}
		known++
		switch {
		case o.Role == "accepted" && o.Server != "":
			servers[o.Server]++
		case o.Upstream != "":
			upstreams[o.Upstream]++
		}
		if r := o.Request; r != nil {
			requests[r.String()]++
			if r.AgeMS != nil && *r.AgeMS > oldest[r.String()] {
				oldest[r.String()] = *r.AgeMS
				if r.AgeAtLeast {
					atLeast[r.String()] = true
				} else {
					delete(atLeast, r.String())
				}
			}
		}
	}
	if known == 0 {
		return "", nil
	}
	var parts []string
	if srv, n := top(servers); n > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d %s were accepted by the %s", n, total, what, srv))
	}
	if up, n := top(upstreams); n > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d %s are client sockets to %s", n, total, what, up))
	}
	if len(requests) > 0 {
		parts = append(parts, "requests in flight: "+requestsText(requests, oldest, atLeast, 5))
	}
	if len(parts) == 0 {
		return "", nil
	}
	ev := evidence.Evidence{"owners_known": evidence.Count(known), "servers": evidence.CountsBy(servers), "requests": evidence.CountsBy(requests), "upstreams": evidence.CountsBy(upstreams)}
	if len(oldest) > 0 {
		// The age of the oldest request of each kind (ms): exact while it is still being
		// received, a lower bound (the time since it arrived in full) afterwards.
		// Its values are keyed by request, so a saved document gives them no unit: plain
		// numbers here too, for a live finding to render as a saved one.
		ages := make(evidence.Evidence, len(oldest))
		for k, ms := range oldest {
			ages[k] = evidence.Int(ms)
		}
		ev["requests_oldest_ms"] = evidence.Object(ages)
	}
	return strings.Join(parts, "; "), ev
}

// top is the key with the highest count (ties: alphabetical).
func top(m map[string]int) (string, int) {
	best, n := "", 0
	for k, v := range m {
		if v > n || (v == n && k < best) {
			best, n = k, v
		}
	}
	return best, n
}

// countsText is "POST /upload (31), GET /health (7)", highest first, at most max entries.
func countsText(m map[string]int, max int) string { return requestsText(m, nil, nil, max) }

// requestsText is countsText with the age of the oldest of each where known: "POST
// /upload (31, oldest 42 s), GET /health (7)"; "oldest ≥ 42 s" for a lower bound (atLeast).
func requestsText(m map[string]int, oldest map[string]int64, atLeast map[string]bool, max int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for i, k := range keys {
		if i == max {
			parts = append(parts, "and "+strconv.Itoa(len(keys)-max)+" more")
			break
		}
		if age, ok := oldest[k]; ok {
			bound := ""
			if atLeast[k] {
				bound = "≥ "
			}
			parts = append(parts, fmt.Sprintf("%s (%d, oldest %s%s)", k, m[k], bound, model.AgeWords(age)))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
