package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// Finding evidence is rendered the same way for every code: keys sorted, scalars inline as
// key=value on one line, then one line per list or object, long lists cut with "… and N
// more". Numbers are formatted by their unit (sizes, percentages, durations); a null limit
// says "unlimited".

// evidenceListMax is how many items of a list of scalars are shown before "… and N more".
const evidenceListMax = 10

// evidenceObjectMax is how many items of a list of objects (peer groups, files) are shown.
const evidenceObjectMax = 3

// evidenceLines renders evidence as lines of text (not yet painted, already safe).
func (r *renderer) evidenceLines(ev evidence.Evidence) []string {
	var scalars, compound []string
	for _, k := range ev.Keys() {
		v := ev[k]
		if cutMarker(ev, k) {
			// "<name>_total" and "truncated" of a cut list: the list's "… and N more" says it.
			continue
		}
		switch v.Kind() {
		case evidence.KindList:
			l, _ := v.List()
			compound = append(compound, safe(k)+": "+r.evidenceListOf(l, listTotal(ev, k, len(l))))
		case evidence.KindObject:
			compound = append(compound, safe(k)+": "+r.evidenceValue(v))
		default:
			scalars = append(scalars, evidenceKey(k, v, ev)+"="+r.evidenceValue(v))
		}
	}
	var out []string
	if len(scalars) > 0 {
		out = append(out, strings.Join(scalars, "  "))
	}
	return append(out, compound...)
}

// evidenceValue renders one value by its unit.
func (r *renderer) evidenceValue(v evidence.Value) string {
	switch v.Kind() {
	case evidence.KindNull:
		if v.Unit() == evidence.UnitUnlimited {
			return "unlimited"
		}
		return notAvailable
	case evidence.KindBool:
		if b, _ := v.Bool(); b {
			return "yes"
		}
		return "no"
	case evidence.KindNumber:
		return numberWithUnit(v)
	case evidence.KindText:
		s, _ := v.Str()
		return quoteIfNeeded(s)
	case evidence.KindList:
		l, _ := v.List()
		return r.evidenceListOf(l, len(l))
	case evidence.KindObject:
		m, _ := v.Object()
		return r.evidenceMap(m, evidenceListMax)
	}
	return safe(v.String())
}

// cutMarker reports whether key only marks that a list of the evidence was cut: "truncated",
// or "<name>_total" beside a list "<name>" that holds fewer items than that total.
func cutMarker(ev evidence.Evidence, key string) bool {
	if key == "truncated" {
		return ev[key].Kind() == evidence.KindBool
	}
	name, ok := strings.CutSuffix(key, "_total")
	if !ok {
		return false
	}
	list, isList := ev[name].List()
	return isList && listTotal(ev, name, len(list)) > len(list)
}

// listTotal is the full length of the evidence list name: its "<name>_total" when the rule
// cut the list (rules list at most 20 items of thousands), else its length.
func listTotal(ev evidence.Evidence, name string, listed int) int {
	total, err := strconv.Atoi(ev[name+"_total"].NumberText())
	if err != nil || total < listed {
		return listed
	}
	return total
}

// evidenceListOf renders a list that was cut from total items ("… and 980 more" counts
// what the rule left out too): scalars joined by ", ", objects as "k=v k=v" joined by "; ".
func (r *renderer) evidenceListOf(list []evidence.Value, total int) string {
	if len(list) == 0 {
		return "none"
	}
	limit, sep := evidenceListMax, ", "
	if total > len(list) {
		// The rule already cut the list to the few it names (fds, pids): show them all.
		limit = len(list)
	}
	if list[0].Kind() == evidence.KindObject {
		limit, sep = evidenceObjectMax, "; "
	}
	if r.verbose {
		limit = len(list)
	}
	parts := make([]string, 0, limit+1)
	for i, item := range list {
		if i == limit {
			break
		}
		if m, ok := item.Object(); ok {
			parts = append(parts, r.evidenceMap(m, 0))
			continue
		}
		parts = append(parts, r.evidenceValue(item))
	}
	if shown := min(limit, len(list)); total > shown {
		parts = append(parts, fmt.Sprintf("%s and %d more", r.ellipsis(), total-shown))
	}
	return strings.Join(parts, sep)
}

// evidenceMap renders an object as "k=v k=v". A map of counts (every value a number, like
// fds by type) is ordered by count, largest first; any other map by key. limit > 0 cuts it.
func (r *renderer) evidenceMap(m evidence.Evidence, limit int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := m.Keys()
	allNumbers := true
	for _, v := range m {
		if v.Kind() != evidence.KindNumber {
			allNumbers = false
		}
	}
	if allNumbers {
		sort.SliceStable(keys, func(i, j int) bool {
			a, _ := m[keys[i]].Float()
			b, _ := m[keys[j]].Float()
			return a > b
		})
	}
	if r.verbose {
		limit = 0
	}
	parts := make([]string, 0, len(keys))
	for i, k := range keys {
		if limit > 0 && i == limit {
			parts = append(parts, fmt.Sprintf("%s and %d more", r.ellipsis(), len(keys)-limit))
			break
		}
		v := m[k]
		switch v.Kind() {
		case evidence.KindObject:
			x, _ := v.Object()
			parts = append(parts, safe(k)+"={"+r.evidenceMap(x, limit)+"}")
		case evidence.KindList:
			l, _ := v.List()
			parts = append(parts, safe(k)+"=["+r.evidenceListOf(l, len(l))+"]")
		default:
			parts = append(parts, evidenceKey(k, v, m)+"="+r.evidenceValue(v))
		}
	}
	return strings.Join(parts, " ")
}

// unitSuffixes are the key endings a number printed with its unit drops.
var unitSuffixes = map[evidence.Unit]string{evidence.UnitBytes: "_bytes", evidence.UnitPercent: "_percent", evidence.UnitMillis: "_ms"}

// evidenceKey is the key as shown: without its unit's suffix when the number is printed
// with the unit ("size=1.2 GiB", not "size_bytes=1.2 GiB"), unless that would show a label
// twice in one line: a sibling key of the same name, or one that loses its suffix to the
// same name ("used_bytes" and "used_percent" stay "used_bytes=32.9 MiB  used_percent=45.7%").
func evidenceKey(key string, v evidence.Value, siblings evidence.Evidence) string {
	if short, ok := stripUnit(key, v); ok && !shortKeyTaken(short, key, siblings) {
		return safe(short)
	}
	return safe(key)
}

// stripUnit returns key without the suffix of v's unit, and whether it had one.
func stripUnit(key string, v evidence.Value) (string, bool) {
	suffix, ok := unitSuffixes[v.Unit()]
	if !ok || v.Kind() != evidence.KindNumber || !strings.HasSuffix(key, suffix) || len(key) == len(suffix) {
		return key, false
	}
	return strings.TrimSuffix(key, suffix), true
}

// shortKeyTaken reports whether another key than key among siblings is shown as short.
func shortKeyTaken(short, key string, siblings evidence.Evidence) bool {
	for k, v := range siblings {
		if k == key {
			continue
		}
		if k == short {
			return true
		}
		if s, ok := stripUnit(k, v); ok && s == short {
			return true
		}
	}
	return false
}

// numberWithUnit formats a number by its unit; a number that is not what the unit
// expects (a fraction of a byte) is printed as it is, with the unit.
func numberWithUnit(v evidence.Value) string {
	n := v.NumberText()
	switch v.Unit() {
	case evidence.UnitBytes:
		if i, err := strconv.ParseInt(n, 10, 64); err == nil {
			return units.SignedBytes(i)
		}
		if u, err := strconv.ParseUint(n, 10, 64); err == nil {
			return units.Bytes(u)
		}
		return n + " B"
	case evidence.UnitPercent:
		if f, ok := v.Float(); ok {
			return formatPercent(f)
		}
		return n + "%"
	case evidence.UnitMillis:
		if ms, err := strconv.ParseInt(n, 10, 64); err == nil {
			return formatDuration(msDuration(ms))
		}
		return n + "ms"
	}
	return n
}
