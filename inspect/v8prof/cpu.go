// Package v8prof decodes what V8's inspector hands back for profiling: CPU profiles
// (Profiler.stop) and sampling heap profiles (HeapProfiler.stopSampling), and turns each
// into a summary a terminal can show, pprof or folded stacks (heap snapshots are
// inspect/heapsnap's). It is pure: it reads bytes, never a process, and depends on
// nothing else of nodeinspect. The pprof writer is the only file importing google/pprof.
package v8prof

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// CallFrame is V8's Runtime.CallFrame: where a function is. LineNumber and ColumnNumber
// are 0-based, as V8 sends them; Frame converts them to 1-based.
type CallFrame struct {
	FunctionName string `json:"functionName"`
	ScriptID     string `json:"scriptId"`
	URL          string `json:"url"`
	LineNumber   int    `json:"lineNumber"`
	ColumnNumber int    `json:"columnNumber"`
}

// Frame is one function of a stack as nodeinspect shows it: 1-based line and column
// (0 when V8 did not know them).
type Frame struct {
	Function string `json:"function"`
	URL      string `json:"url"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	// ScriptID is V8's id of the script (for source maps); not part of the identity shown.
	ScriptID string `json:"-"`
}

// Frame returns the 1-based form of a call frame. An empty function name becomes
// "(anonymous)", as DevTools shows it.
func (c CallFrame) Frame() Frame {
	name := c.FunctionName
	if name == "" {
		name = "(anonymous)"
	}
	f := Frame{Function: name, URL: c.URL, ScriptID: c.ScriptID}
	if c.LineNumber >= 0 {
		f.Line = c.LineNumber + 1
	}
	if c.ColumnNumber >= 0 {
		f.Column = c.ColumnNumber + 1
	}
	return f
}

// String is "function (url:line)", or the bare name for V8's pseudo frames.
func (f Frame) String() string {
	if f.URL == "" {
		return f.Function
	}
	return fmt.Sprintf("%s (%s:%d)", f.Function, f.URL, f.Line)
}

// ProfileNode is one node of the CPU profile's call tree (Profiler.ProfileNode).
type ProfileNode struct {
	ID        int       `json:"id"`
	CallFrame CallFrame `json:"callFrame"`
	HitCount  int       `json:"hitCount"`
	Children  []int     `json:"children"`
}

// CPUProfile is Profiler.Profile: the call tree, the node of each sample and the time
// between samples. StartTime and EndTime are V8's monotonic clock in microseconds.
type CPUProfile struct {
	Nodes      []ProfileNode `json:"nodes"`
	StartTime  int64         `json:"startTime"`
	EndTime    int64         `json:"endTime"`
	Samples    []int         `json:"samples"`
	TimeDeltas []int64       `json:"timeDeltas"`

	// index maps a node id to its position in Nodes; parent is the parent's position
	// (-1 for a root). Both are built by ParseCPUProfile.
	index  map[int]int
	parent []int
}

// V8's pseudo functions: a sample where the thread waited, ran V8-internal code or collected
// garbage, and the tree's root.
const (
	idleName    = "(idle)"
	programName = "(program)"
	gcName      = "(garbage collector)"
	rootName    = "(root)"
)

// ErrNotCPUProfile says the data is not a Profiler.Profile.
var ErrNotCPUProfile = errors.New("not a V8 CPU profile")

// ParseCPUProfile decodes a Profiler.Profile (the "profile" of Profiler.stop's result, or a
// .cpuprofile file) and checks that its ids hold together: unique node ids, children and
// samples naming existing nodes, one parent per node.
func ParseCPUProfile(data []byte) (*CPUProfile, error) {
	var p CPUProfile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotCPUProfile, err)
	}
	if len(p.Nodes) == 0 {
		return nil, fmt.Errorf("%w: no nodes", ErrNotCPUProfile)
	}
	if err := p.link(); err != nil {
		return nil, err
	}
	return &p, nil
}

// link builds the id index and parent links, checking every reference.
func (p *CPUProfile) link() error {
	p.index = make(map[int]int, len(p.Nodes))
	for i, n := range p.Nodes {
		if _, dup := p.index[n.ID]; dup {
			return fmt.Errorf("%w: node id %d appears twice", ErrNotCPUProfile, n.ID)
		}
		p.index[n.ID] = i
	}
	p.parent = make([]int, len(p.Nodes))
	for i := range p.parent {
		p.parent[i] = -1
	}
	for i, n := range p.Nodes {
		for _, c := range n.Children {
			ci, ok := p.index[c]
			if !ok {
				return fmt.Errorf("%w: node %d has an unknown child %d", ErrNotCPUProfile, n.ID, c)
			}
			if p.parent[ci] != -1 || ci == i {
				return fmt.Errorf("%w: node %d has two parents", ErrNotCPUProfile, c)
			}
			p.parent[ci] = i
		}
	}
	for _, s := range p.Samples {
		if _, ok := p.index[s]; !ok {
			return fmt.Errorf("%w: a sample names unknown node %d", ErrNotCPUProfile, s)
		}
	}
	// A cycle through parent links would make every walk up a stack endless.
	state := make([]uint8, len(p.Nodes)) // 0 unseen, 1 on the current walk, 2 known to end at a root
	for i := range p.Nodes {
		var walk []int
		j := i
		for j != -1 && state[j] == 0 {
			state[j] = 1
			walk = append(walk, j)
			j = p.parent[j]
		}
		if j != -1 && state[j] == 1 {
			return fmt.Errorf("%w: the call tree has a cycle through node %d", ErrNotCPUProfile, p.Nodes[j].ID)
		}
		for _, w := range walk {
			state[w] = 2
		}
	}
	return nil
}

// sampleWeights returns, for each sample, the microseconds it stands for: the time until
// the next sample (the last one: until EndTime), as DevTools counts it. V8 sometimes sends a
// negative delta (samples reordered across threads); such a gap counts as zero. Without
// usable timeDeltas every sample weighs the mean interval.
func (p *CPUProfile) sampleWeights() []int64 {
	n := len(p.Samples)
	w := make([]int64, n)
	if n == 0 {
		return w
	}
	if len(p.TimeDeltas) != n {
		span := p.EndTime - p.StartTime
		if span < 0 {
			span = 0
		}
		for i := range w {
			w[i] = span / int64(n)
		}
		return w
	}
	ts := p.StartTime
	stamps := make([]int64, n)
	for i, d := range p.TimeDeltas {
		ts += d
		stamps[i] = ts
	}
	for i := 0; i < n; i++ {
		next := p.EndTime
		if i+1 < n {
			next = stamps[i+1]
		}
		if d := next - stamps[i]; d > 0 {
			w[i] = d
		}
	}
	return w
}

// FunctionStat is one function's share of a CPU profile. Self counts the samples where it
// was running; Total those where it was on the stack (once per sample, even when recursive).
type FunctionStat struct {
	Frame        Frame
	SelfSamples  int
	TotalSamples int
	SelfUs       int64 // microseconds
	TotalUs      int64 // microseconds
	SelfPercent  float64
	TotalPercent float64
}

// CPUSummary is what a terminal shows of a CPU profile.
type CPUSummary struct {
	DurationUs int64 // EndTime - StartTime, microseconds
	IntervalUs float64
	Samples    int
	// Shares of the profile's sampled time, in percent: waiting (idle), V8-internal work
	// outside JavaScript (program), garbage collection (gc), and JavaScript itself.
	IdlePercent, ProgramPercent, GCPercent, JSPercent float64
	// Idle is true when JavaScript and GC together took under 1% of the time: the
	// process was waiting, and a table of functions would be noise.
	Idle     bool
	BySelf   []FunctionStat // JavaScript functions, most self time first
	ByTotal  []FunctionStat // JavaScript functions, most total time first
	Hottest  []Frame        // the stack with the most self time, innermost first
	HotShare float64        // percent of the time spent in exactly that stack
}

// funcKey identifies a function across call-tree nodes: V8 makes one node per call path,
// so the same function appears under many nodes.
type funcKey struct {
	name, url, script string
	line, col         int
}

func keyOf(c CallFrame) funcKey {
	return funcKey{c.FunctionName, c.URL, c.ScriptID, c.LineNumber, c.ColumnNumber}
}

// isPseudo says whether a frame is one of V8's (idle)/(program)/(garbage collector)/(root).
func isPseudo(c CallFrame) bool {
	switch c.FunctionName {
	case idleName, programName, gcName, rootName:
		return c.URL == ""
	}
	return false
}

// Summarize computes the top functions (at most limit in each list; limit <= 0 means all),
// the time shares and the hottest stack.
func (p *CPUProfile) Summarize(limit int) CPUSummary {
	if p.index == nil {
		if err := p.link(); err != nil {
			return CPUSummary{}
		}
	}
	s := CPUSummary{DurationUs: p.EndTime - p.StartTime, Samples: len(p.Samples)}
	if s.DurationUs < 0 {
		s.DurationUs = 0
	}
	if s.Samples > 0 {
		s.IntervalUs = float64(s.DurationUs) / float64(s.Samples)
	}
	weights := p.sampleWeights()
	selfUs := make([]int64, len(p.Nodes))
	selfN := make([]int, len(p.Nodes))
	var totalUs int64
	for i, id := range p.Samples {
		ni := p.index[id]
		selfUs[ni] += weights[i]
		selfN[ni]++
		totalUs += weights[i]
	}
	pct := func(us int64) float64 {
		if totalUs == 0 {
			return 0
		}
		return 100 * float64(us) / float64(totalUs)
	}
	var idleUs, programUs, gcUs int64
	for i, n := range p.Nodes {
		if !isPseudo(n.CallFrame) {
			continue
		}
		switch n.CallFrame.FunctionName {
		case idleName:
			idleUs += selfUs[i]
		case programName, rootName:
			programUs += selfUs[i]
		case gcName:
			gcUs += selfUs[i]
		}
	}
	s.IdlePercent, s.ProgramPercent, s.GCPercent = pct(idleUs), pct(programUs), pct(gcUs)
	jsUs := totalUs - idleUs - programUs - gcUs
	s.JSPercent = pct(jsUs)
	s.Idle = totalUs == 0 || float64(jsUs+gcUs) < 0.01*float64(totalUs)

	// Subtree sums in reverse topological order (children after parents in a BFS order).
	order := p.topoOrder()
	subUs := append([]int64(nil), selfUs...)
	subN := append([]int(nil), selfN...)
	for k := len(order) - 1; k >= 0; k-- {
		i := order[k]
		if pi := p.parent[i]; pi >= 0 {
			subUs[pi] += subUs[i]
			subN[pi] += subN[i]
		}
	}
	stats := map[funcKey]*FunctionStat{}
	get := func(c CallFrame) *FunctionStat {
		k := keyOf(c)
		st := stats[k]
		if st == nil {
			st = &FunctionStat{Frame: c.Frame()}
			stats[k] = st
		}
		return st
	}
	for i, n := range p.Nodes {
		if isPseudo(n.CallFrame) || selfN[i] == 0 {
			continue
		}
		st := get(n.CallFrame)
		st.SelfUs += selfUs[i]
		st.SelfSamples += selfN[i]
	}
	// Total: a node's subtree counts for its function unless an ancestor is the same
	// function (recursion would count a sample twice).
	for i, n := range p.Nodes {
		if isPseudo(n.CallFrame) || subN[i] == 0 {
			continue
		}
		k := keyOf(n.CallFrame)
		nested := false
		for a := p.parent[i]; a >= 0; a = p.parent[a] {
			if keyOf(p.Nodes[a].CallFrame) == k {
				nested = true
				break
			}
		}
		if nested {
			continue
		}
		st := get(n.CallFrame)
		st.TotalUs += subUs[i]
		st.TotalSamples += subN[i]
	}
	all := make([]FunctionStat, 0, len(stats))
	for _, st := range stats {
		st.SelfPercent, st.TotalPercent = pct(st.SelfUs), pct(st.TotalUs)
		all = append(all, *st)
	}
	bySelf := append([]FunctionStat(nil), all...)
	sort.Slice(bySelf, func(a, b int) bool { return lessStat(bySelf[a], bySelf[b], true) })
	var selfOnly []FunctionStat
	for _, st := range bySelf {
		if st.SelfSamples > 0 {
			selfOnly = append(selfOnly, st)
		}
	}
	byTotal := all
	sort.Slice(byTotal, func(a, b int) bool { return lessStat(byTotal[a], byTotal[b], false) })
	s.BySelf, s.ByTotal = clip(selfOnly, limit), clip(byTotal, limit)

	hot := -1
	for i, n := range p.Nodes {
		if isPseudo(n.CallFrame) || selfN[i] == 0 {
			continue
		}
		if hot < 0 || selfUs[i] > selfUs[hot] || (selfUs[i] == selfUs[hot] && p.Nodes[i].ID < p.Nodes[hot].ID) {
			hot = i
		}
	}
	if hot >= 0 {
		s.HotShare = pct(selfUs[hot])
		for i := hot; i >= 0; i = p.parent[i] {
			if p.Nodes[i].CallFrame.FunctionName == rootName && p.Nodes[i].CallFrame.URL == "" {
				continue
			}
			s.Hottest = append(s.Hottest, p.Nodes[i].CallFrame.Frame())
		}
	}
	return s
}

// topoOrder lists node positions so that every parent comes before its children.
func (p *CPUProfile) topoOrder() []int {
	order := make([]int, 0, len(p.Nodes))
	for i := range p.Nodes {
		if p.parent[i] == -1 {
			order = append(order, i)
		}
	}
	for k := 0; k < len(order); k++ {
		for _, c := range p.Nodes[order[k]].Children {
			order = append(order, p.index[c])
		}
	}
	return order
}

// lessStat orders by self (or total) time, then samples, then name, so output is stable.
func lessStat(a, b FunctionStat, self bool) bool {
	av, bv := a.TotalUs, b.TotalUs
	if self {
		av, bv = a.SelfUs, b.SelfUs
	}
	if av != bv {
		return av > bv
	}
	if a.SelfSamples != b.SelfSamples {
		return a.SelfSamples > b.SelfSamples
	}
	return a.Frame.String() < b.Frame.String()
}

func clip[T any](s []T, limit int) []T {
	if limit > 0 && len(s) > limit {
		return s[:limit]
	}
	return s
}

// stack returns the call frames of a node from the root's first child to the node
// (outermost first), without the (root) node.
func (p *CPUProfile) stack(i int) []CallFrame {
	var out []CallFrame
	for ; i >= 0; i = p.parent[i] {
		c := p.Nodes[i].CallFrame
		if c.FunctionName == rootName && c.URL == "" {
			continue
		}
		out = append(out, c)
	}
	for a, b := 0, len(out)-1; a < b; a, b = a+1, b-1 {
		out[a], out[b] = out[b], out[a]
	}
	return out
}

// MergeCPUProfiles joins profiles taken one after another of the same thread (a long
// profile is taken in segments, so no single answer of the inspector grows without bound
// and a target that dies mid-way leaves the segments already received). Nodes with the
// same call path merge; samples and time deltas are concatenated in order.
func MergeCPUProfiles(parts ...*CPUProfile) (*CPUProfile, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: no profile to merge", ErrNotCPUProfile)
	}
	out := &CPUProfile{StartTime: parts[0].StartTime}
	type pathKey struct {
		parent int // merged id of the parent, 0 for a root
		fn     funcKey
	}
	merged := map[pathKey]int{}
	var lastTS int64
	first := true
	for _, p := range parts {
		if p.index == nil {
			if err := p.link(); err != nil {
				return nil, err
			}
		}
		newID := make([]int, len(p.Nodes))
		for _, i := range p.topoOrder() {
			parent := 0
			if pi := p.parent[i]; pi >= 0 {
				parent = newID[pi]
			}
			k := pathKey{parent, keyOf(p.Nodes[i].CallFrame)}
			id, ok := merged[k]
			if !ok {
				id = len(out.Nodes) + 1
				merged[k] = id
				out.Nodes = append(out.Nodes, ProfileNode{ID: id, CallFrame: p.Nodes[i].CallFrame})
				if parent != 0 {
					out.Nodes[parent-1].Children = append(out.Nodes[parent-1].Children, id)
				}
			}
			out.Nodes[id-1].HitCount += p.Nodes[i].HitCount
			newID[i] = id
		}
		ts := p.StartTime
		for k, s := range p.Samples {
			d := int64(0)
			if k < len(p.TimeDeltas) {
				d = p.TimeDeltas[k]
			}
			ts += d
			delta := ts - lastTS
			if first {
				delta = ts - out.StartTime
				first = false
			}
			out.Samples = append(out.Samples, newID[p.index[s]])
			out.TimeDeltas = append(out.TimeDeltas, delta)
			lastTS = ts
		}
		out.EndTime = p.EndTime
	}
	if err := out.link(); err != nil {
		return nil, err
	}
	return out, nil
}

// MarshalJSON writes the profile in Chrome's .cpuprofile form (the fields of
// Profiler.Profile), which DevTools and speedscope open.
func (p *CPUProfile) MarshalJSON() ([]byte, error) {
	type plain struct {
		Nodes      []ProfileNode `json:"nodes"`
		StartTime  int64         `json:"startTime"`
		EndTime    int64         `json:"endTime"`
		Samples    []int         `json:"samples"`
		TimeDeltas []int64       `json:"timeDeltas"`
	}
	q := plain{p.Nodes, p.StartTime, p.EndTime, p.Samples, p.TimeDeltas}
	if q.Samples == nil {
		q.Samples = []int{}
	}
	if q.TimeDeltas == nil {
		q.TimeDeltas = []int64{}
	}
	for i := range q.Nodes {
		if q.Nodes[i].Children == nil {
			q.Nodes[i].Children = []int{}
		}
	}
	return json.Marshal(q)
}
