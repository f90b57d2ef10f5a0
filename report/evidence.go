package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/internal/units"
)

// Finding evidence is a map[string]any whose keys are named by each rule. It is rendered
// the same way for every code: keys sorted, scalars inline as key=value on one line, then
// one line per list or map, long lists cut with "… and N more". The only conventions read
// from key names are units, which the rules spell in the key as the contract does for JSON
// fields: "bytes" or "*_bytes" (sizes), "percent" or "*_percent", "*_ms" (durations), and
// "*_limit" where null means unlimited.

// evidenceListMax is how many items of a list of scalars are shown before "… and N more".
const evidenceListMax = 10

// evidenceObjectMax is how many items of a list of objects (peer groups, files) are shown.
const evidenceObjectMax = 3

// evidenceLines renders evidence as lines of text (not yet painted, already safe).
func (r *renderer) evidenceLines(ev map[string]any) []string {
	keys := make([]string, 0, len(ev))
	for k := range ev {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var scalars, compound []string
	for _, k := range keys {
		v := normalise(ev[k])
		if cutMarker(ev, k) {
			// "<name>_total" and "truncated" of a cut list: the list's "… and N more" says it.
			continue
		}
		switch x := v.(type) {
		case []any:
			compound = append(compound, safe(k)+": "+r.evidenceListOf(k, x, listTotal(ev, k, len(x))))
		case map[string]any:
			compound = append(compound, safe(k)+": "+r.evidenceValue(k, v))
		default:
			scalars = append(scalars, evidenceKey(k, v, ev)+"="+r.evidenceValue(k, v))
		}
	}
	var out []string
	if len(scalars) > 0 {
		out = append(out, strings.Join(scalars, "  "))
	}
	return append(out, compound...)
}

// normaliseDepth bounds how deep normalise follows nested values (a cycle through maps
// or pointers would otherwise never end).
const normaliseDepth = 8

// normalise turns any evidence value into the shapes JSON decoding gives (nil, bool,
// json.Number, string, []any, map[string]any), so values built by the rules and values read
// back from a saved snapshot render alike. Unlike a trip through encoding/json it keeps
// strings byte for byte (safe escapes them later) and never fails: what JSON cannot carry
// (NaN, channels) is printed with fmt.
func normalise(v any) any { return normaliseValue(reflect.ValueOf(v), normaliseDepth) }

func normaliseValue(v reflect.Value, depth int) any {
	if !v.IsValid() {
		return nil
	}
	if !v.CanInterface() {
		return "?"
	}
	if depth == 0 {
		return "…"
	}
	if n, ok := v.Interface().(json.Number); ok {
		return n
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return normaliseValue(v.Elem(), depth-1)
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Number(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return json.Number(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
	case reflect.String:
		return v.String()
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return fmt.Sprintf("%x", v.Interface())
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = normaliseValue(v.Index(i), depth-1)
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			out[fmt.Sprint(it.Key().Interface())] = normaliseValue(it.Value(), depth-1)
		}
		return out
	case reflect.Struct:
		// A struct (time.Time...) renders as its JSON would.
		if b, err := json.Marshal(v.Interface()); err == nil {
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			var out any
			if dec.Decode(&out) == nil {
				return out
			}
		}
	}
	return fmt.Sprint(v.Interface())
}

// evidenceValue renders one normalised value of key.
func (r *renderer) evidenceValue(key string, v any) string {
	switch x := v.(type) {
	case nil:
		if strings.HasSuffix(key, "_limit") {
			return "unlimited"
		}
		return notAvailable
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case json.Number:
		return numberWithUnit(key, x)
	case string:
		return quoteIfNeeded(x)
	case []any:
		return r.evidenceList(key, x)
	case map[string]any:
		return r.evidenceMap(x, evidenceListMax)
	}
	return safe(fmt.Sprint(v))
}

// cutMarker reports whether key only marks that a list of the evidence was cut: "truncated",
// or "<name>_total" beside a list "<name>" that holds fewer items than that total.
func cutMarker(ev map[string]any, key string) bool {
	if key == "truncated" {
		_, isBool := normalise(ev[key]).(bool)
		return isBool
	}
	name, ok := strings.CutSuffix(key, "_total")
	if !ok {
		return false
	}
	list, isList := normalise(ev[name]).([]any)
	return isList && listTotal(ev, name, len(list)) > len(list)
}

// listTotal is the full length of the evidence list name: its "<name>_total" when the rule
// cut the list (rules list at most 20 items of thousands), else its length.
func listTotal(ev map[string]any, name string, listed int) int {
	n, ok := normalise(ev[name+"_total"]).(json.Number)
	if !ok {
		return listed
	}
	total, err := strconv.Atoi(n.String())
	if err != nil || total < listed {
		return listed
	}
	return total
}

// evidenceList renders a list: scalars joined by ", ", objects as "k=v k=v" joined by "; ".
func (r *renderer) evidenceList(key string, list []any) string {
	return r.evidenceListOf(key, list, len(list))
}

// evidenceListOf renders a list that was cut from total items ("… and 980 more" counts
// what the rule left out too).
func (r *renderer) evidenceListOf(key string, list []any, total int) string {
	if len(list) == 0 {
		return "none"
	}
	limit, sep := evidenceListMax, ", "
	if total > len(list) {
		// The rule already cut the list to the few it names (fds, pids): show them all.
		limit = len(list)
	}
	if _, isObject := list[0].(map[string]any); isObject {
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
		if m, ok := item.(map[string]any); ok {
			parts = append(parts, r.evidenceMap(m, 0))
			continue
		}
		parts = append(parts, r.evidenceValue(key, item))
	}
	if shown := min(limit, len(list)); total > shown {
		parts = append(parts, fmt.Sprintf("%s and %d more", r.ellipsis(), total-shown))
	}
	return strings.Join(parts, sep)
}

// evidenceMap renders an object as "k=v k=v". A map of counts (every value a number, like
// fds by type) is ordered by count, largest first; any other map by key. limit > 0 cuts it.
func (r *renderer) evidenceMap(m map[string]any, limit int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	allNumbers := true
	for k, v := range m {
		keys = append(keys, k)
		if _, ok := v.(json.Number); !ok {
			allNumbers = false
		}
	}
	sort.Strings(keys)
	if allNumbers {
		sort.SliceStable(keys, func(i, j int) bool {
			a, _ := m[keys[i]].(json.Number).Float64()
			b, _ := m[keys[j]].(json.Number).Float64()
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
		switch x := v.(type) {
		case map[string]any:
			parts = append(parts, safe(k)+"={"+r.evidenceMap(x, limit)+"}")
		case []any:
			parts = append(parts, safe(k)+"=["+r.evidenceList(k, x)+"]")
		default:
			parts = append(parts, evidenceKey(k, v, m)+"="+r.evidenceValue(k, v))
		}
	}
	return strings.Join(parts, " ")
}

// unitSuffixes are the key endings that numberWithUnit turns into units.
var unitSuffixes = []string{"_bytes", "_percent", "_ms"}

// evidenceKey is the key as shown: without its unit suffix when the number is printed with
// the unit ("size=1.2 GiB", not "size_bytes=1.2 GiB"), unless that would show a label twice
// in one line: a sibling key of the same name, or one that loses its suffix to the same name
// ("used_bytes" and "used_percent" stay "used_bytes=32.9 MiB  used_percent=45.7%").
func evidenceKey(key string, v any, siblings map[string]any) string {
	if _, ok := v.(json.Number); ok {
		if short, ok := stripUnit(key); ok && !shortKeyTaken(short, key, siblings) {
			return safe(short)
		}
	}
	return safe(key)
}

// stripUnit returns key without its unit suffix, and whether it had one.
func stripUnit(key string) (string, bool) {
	for _, suffix := range unitSuffixes {
		if strings.HasSuffix(key, suffix) && len(key) > len(suffix) {
			return strings.TrimSuffix(key, suffix), true
		}
	}
	return key, false
}

// shortKeyTaken reports whether another key than key among siblings is shown as short.
func shortKeyTaken(short, key string, siblings map[string]any) bool {
	for k, v := range siblings {
		if k == key {
			continue
		}
		if k == short {
			return true
		}
		if _, num := normalise(v).(json.Number); num {
			if s, ok := stripUnit(k); ok && s == short {
				return true
			}
		}
	}
	return false
}

// numberWithUnit formats a number by the unit its key names; a number that does not parse
// as that unit expects (a fraction of a byte) is printed as it is, with the unit.
func numberWithUnit(key string, n json.Number) string {
	switch {
	case key == "bytes" || strings.HasSuffix(key, "_bytes"):
		if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			return units.SignedBytes(i)
		}
		if u, err := strconv.ParseUint(n.String(), 10, 64); err == nil {
			return units.Bytes(u)
		}
		return n.String() + " B"
	case key == "percent" || strings.HasSuffix(key, "_percent"):
		if f, err := n.Float64(); err == nil {
			return formatPercent(f)
		}
		return n.String() + "%"
	case strings.HasSuffix(key, "_ms"):
		if ms, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			return formatDuration(msDuration(ms))
		}
		return n.String() + "ms"
	}
	return n.String()
}
