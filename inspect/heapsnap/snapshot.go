// Package heapsnap summarises a V8 heap snapshot (HeapProfiler.takeHeapSnapshot chunks, or
// a .heapsnapshot file) by class: count, shallow and retained size, streamed through a
// JSON scanner of its own so a snapshot of hundreds of megabytes is never held as a tree.
// It is pure: it reads bytes, never a process, and depends on nothing else of nodeinspect.
// synth.go writes synthetic snapshots for its benchmark and tests.
package heapsnap

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
)

// ErrNotHeapSnapshot says the input is not a V8 heap snapshot (.heapsnapshot JSON).
var ErrNotHeapSnapshot = errors.New("not a V8 heap snapshot")

// ErrTruncatedSnapshot says the snapshot ends before its last section.
var ErrTruncatedSnapshot = errors.New("truncated heap snapshot")

// snapshotMeta is the part of "snapshot.meta" the summary needs: the field layout of the
// flat node and edge arrays and the names of the node and edge types.
type snapshotMeta struct {
	Meta struct {
		NodeFields []string          `json:"node_fields"`
		NodeTypes  []json.RawMessage `json:"node_types"`
		EdgeFields []string          `json:"edge_fields"`
		EdgeTypes  []json.RawMessage `json:"edge_types"`
	} `json:"meta"`
	NodeCount int `json:"node_count"`
	EdgeCount int `json:"edge_count"`
}

// layout is snapshotMeta resolved into field positions.
type layout struct {
	nodeFields, nodeType, nodeName, nodeSelf, nodeEdges int
	edgeFields, edgeType, edgeTo                        int
	nodeTypes, edgeTypes                                []string
	weak, shortcut                                      int // edge type codes; -1 when absent
	hintNodes, hintEdges                                int
}

// maxMetaBytes bounds the "snapshot" section: V8's is about 2 KB.
const maxMetaBytes = 1 << 20

// maxClassName bounds a kept constructor name.
const maxClassName = 512

func fieldIndex(fields []string, name string) int {
	for i, f := range fields {
		if f == name {
			return i
		}
	}
	return -1
}

func parseMeta(raw []byte) (*layout, error) {
	var m snapshotMeta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: bad \"snapshot\" section: %w", ErrNotHeapSnapshot, err)
	}
	l := &layout{
		nodeFields: len(m.Meta.NodeFields), edgeFields: len(m.Meta.EdgeFields),
		nodeType: fieldIndex(m.Meta.NodeFields, "type"), nodeName: fieldIndex(m.Meta.NodeFields, "name"),
		nodeSelf: fieldIndex(m.Meta.NodeFields, "self_size"), nodeEdges: fieldIndex(m.Meta.NodeFields, "edge_count"),
		edgeType: fieldIndex(m.Meta.EdgeFields, "type"), edgeTo: fieldIndex(m.Meta.EdgeFields, "to_node"),
		hintNodes: m.NodeCount, hintEdges: m.EdgeCount,
	}
	if l.nodeType < 0 || l.nodeName < 0 || l.nodeSelf < 0 || l.nodeEdges < 0 {
		return nil, fmt.Errorf("%w: meta.node_fields %q lacks type, name, self_size or edge_count", ErrNotHeapSnapshot, m.Meta.NodeFields)
	}
	if l.edgeType < 0 || l.edgeTo < 0 {
		return nil, fmt.Errorf("%w: meta.edge_fields %q lacks type or to_node", ErrNotHeapSnapshot, m.Meta.EdgeFields)
	}
	if len(m.Meta.NodeTypes) <= l.nodeType || json.Unmarshal(m.Meta.NodeTypes[l.nodeType], &l.nodeTypes) != nil {
		return nil, fmt.Errorf("%w: meta.node_types has no list of type names", ErrNotHeapSnapshot)
	}
	if len(m.Meta.EdgeTypes) <= l.edgeType || json.Unmarshal(m.Meta.EdgeTypes[l.edgeType], &l.edgeTypes) != nil {
		return nil, fmt.Errorf("%w: meta.edge_types has no list of type names", ErrNotHeapSnapshot)
	}
	if len(l.nodeTypes) > 255 || len(l.edgeTypes) > 255 {
		return nil, fmt.Errorf("%w: more than 255 node or edge types", ErrNotHeapSnapshot)
	}
	l.weak, l.shortcut = fieldIndex(l.edgeTypes, "weak"), fieldIndex(l.edgeTypes, "shortcut")
	return l, nil
}

// graph is a snapshot reduced to what the summary needs, in compact slices: about 17 bytes
// per node and 5 per edge.
type graph struct {
	l         *layout
	nodeType  []uint8
	nodeName  []uint32 // string index; replaced by a class index once strings are read
	nodeSelf  []uint64
	firstEdge []uint32 // edges of node i are [firstEdge[i], firstEdge[i+1]); built from edge_count
	edgeType  []uint8
	edgeTo    []uint32 // node ordinal (to_node / node field count)
	classes   []string
}

// SnapshotClass is one row of the summary: the objects of one constructor (or one kind,
// like "(string)" or "(compiled code)"), as DevTools' summary view groups them.
type SnapshotClass struct {
	Name  string
	Count int
	// SelfBytes is the objects' own size; RetainedBytes what would be freed with them (the
	// sum over the dominator tree, counting an object once even when a retainer of the same
	// class retains it too).
	SelfBytes, RetainedBytes uint64
}

// SnapshotSummary is the summary of a heap snapshot.
type SnapshotSummary struct {
	Nodes, Edges int
	Reachable    int    // nodes reachable from the root through strong edges
	TotalBytes   uint64 // self size of the reachable nodes
	Classes      []SnapshotClass
}

// SummarizeSnapshot reads a .heapsnapshot stream and returns its summary by class, largest
// retained size first (at most limit classes; <= 0 means all). It keeps the graph in
// compact arrays and never holds the file; a truncated or foreign file is an error wrapping
// ErrTruncatedSnapshot or ErrNotHeapSnapshot.
func SummarizeSnapshot(r io.Reader, limit int) (*SnapshotSummary, error) {
	g, err := readSnapshot(r)
	if err != nil {
		return nil, err
	}
	return g.summarize(limit), nil
}

// readSnapshot streams the document into a graph.
func readSnapshot(r io.Reader) (*graph, error) {
	s := newScanner(r)
	wrap := func(err error) error {
		if errors.Is(err, errTruncated) {
			return fmt.Errorf("%w: %w", ErrTruncatedSnapshot, err)
		}
		if errors.Is(err, ErrNotHeapSnapshot) || errors.Is(err, ErrTruncatedSnapshot) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrNotHeapSnapshot, err)
	}
	c, err := s.peek("the document")
	if err != nil {
		if errors.Is(err, errTruncated) && s.offset() == 0 {
			return nil, fmt.Errorf("%w: the file is empty", ErrNotHeapSnapshot)
		}
		return nil, wrap(err)
	}
	if c != '{' {
		return nil, fmt.Errorf("%w: it does not start with a JSON object", ErrNotHeapSnapshot)
	}
	s.pos++
	g := &graph{}
	var nodesDone, edgesDone, stringsDone bool
	var needed []uint64 // bitset of string indexes that name a class
	for first := true; ; first = false {
		c, err := s.peek("the document")
		if err != nil {
			return nil, wrap(err)
		}
		if c == '}' {
			break
		}
		if !first {
			if c != ',' {
				return nil, wrap(fmt.Errorf("expected ',' between sections at byte %d, found %q", s.offset(), c))
			}
			s.pos++
		}
		key, err := s.key(64, "a section name")
		if err != nil {
			return nil, wrap(err)
		}
		if first && key != "snapshot" {
			return nil, fmt.Errorf("%w: the first key is %q, not \"snapshot\"", ErrNotHeapSnapshot, key)
		}
		switch key {
		case "snapshot":
			var raw []byte
			if err := s.skipValue("the \"snapshot\" section", &raw, maxMetaBytes); err != nil {
				return nil, wrap(err)
			}
			if g.l, err = parseMeta(raw); err != nil {
				return nil, err
			}
		case "nodes":
			if err := g.readNodes(s, &needed); err != nil {
				return nil, wrap(err)
			}
			nodesDone = true
		case "edges":
			if !nodesDone {
				return nil, fmt.Errorf("%w: \"edges\" comes before \"nodes\"", ErrNotHeapSnapshot)
			}
			if err := g.readEdges(s); err != nil {
				return nil, wrap(err)
			}
			edgesDone = true
		case "strings":
			if !nodesDone {
				return nil, fmt.Errorf("%w: \"strings\" comes before \"nodes\"", ErrNotHeapSnapshot)
			}
			if err := g.readStrings(s, needed); err != nil {
				return nil, wrap(err)
			}
			stringsDone = true
		default:
			if err := s.skipValue("section \""+key+"\"", nil, 0); err != nil {
				return nil, wrap(err)
			}
		}
	}
	switch {
	case !nodesDone:
		return nil, fmt.Errorf("%w: no \"nodes\" section", ErrNotHeapSnapshot)
	case !edgesDone:
		return nil, fmt.Errorf("%w: no \"edges\" section", ErrNotHeapSnapshot)
	case !stringsDone:
		return nil, fmt.Errorf("%w: no \"strings\" section", ErrNotHeapSnapshot)
	}
	return g, nil
}

// preallocCap bounds what the meta's counts may preallocate: a lying header must not make
// a tiny file allocate gigabytes.
func preallocCap(hint int) int {
	const max = 1 << 22
	if hint < 0 {
		return 0
	}
	if hint > max {
		return max
	}
	return hint
}

// classNamedTypes are the node types whose name is a constructor name (DevTools'
// className()); every other type is grouped under "(type)".
func classNamed(typeName string) bool { return typeName == "object" || typeName == "native" }

func (g *graph) readNodes(s *scanner, needed *[]uint64) error {
	l := g.l
	if l == nil {
		return fmt.Errorf("%w: \"nodes\" comes before \"snapshot\"", ErrNotHeapSnapshot)
	}
	n := preallocCap(l.hintNodes)
	g.nodeType = make([]uint8, 0, n)
	g.nodeName = make([]uint32, 0, n)
	g.nodeSelf = make([]uint64, 0, n)
	g.firstEdge = make([]uint32, 1, n+1)
	field := 0
	var typ uint8
	var name uint32
	var self uint64
	var edges uint64
	named := make([]bool, len(l.nodeTypes))
	for i, t := range l.nodeTypes {
		named[i] = classNamed(t)
	}
	err := s.uintArray("\"nodes\"", func(v uint64) error {
		switch field {
		case l.nodeType:
			if v >= uint64(len(l.nodeTypes)) {
				return fmt.Errorf("node %d has type %d; meta lists %d types", len(g.nodeType), v, len(l.nodeTypes))
			}
			typ = uint8(v)
		case l.nodeName:
			if v > math.MaxUint32 {
				return fmt.Errorf("node %d has name index %d", len(g.nodeType), v)
			}
			name = uint32(v)
		case l.nodeSelf:
			self = v
		case l.nodeEdges:
			edges = v
		}
		field++
		if field < l.nodeFields {
			return nil
		}
		field = 0
		total := uint64(g.firstEdge[len(g.firstEdge)-1]) + edges
		if total > math.MaxUint32 || len(g.nodeType) >= math.MaxUint32-1 {
			return fmt.Errorf("more than 2^32 nodes or edges")
		}
		g.nodeType = append(g.nodeType, typ)
		g.nodeName = append(g.nodeName, name)
		g.nodeSelf = append(g.nodeSelf, self)
		g.firstEdge = append(g.firstEdge, uint32(total))
		if named[typ] {
			w := int(name / 64)
			for len(*needed) <= w {
				*needed = append(*needed, 0)
			}
			(*needed)[w] |= 1 << (name % 64)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if field != 0 {
		return fmt.Errorf("\"nodes\" has %d values, not a multiple of %d fields", len(g.nodeType)*l.nodeFields+field, l.nodeFields)
	}
	if len(g.nodeType) == 0 {
		return fmt.Errorf("\"nodes\" is empty")
	}
	return nil
}

func (g *graph) readEdges(s *scanner) error {
	l := g.l
	want := g.firstEdge[len(g.firstEdge)-1]
	g.edgeType = make([]uint8, 0, want)
	g.edgeTo = make([]uint32, 0, want)
	nodes := uint64(len(g.nodeType))
	field := 0
	var typ uint8
	var to uint32
	err := s.uintArray("\"edges\"", func(v uint64) error {
		switch field {
		case l.edgeType:
			if v >= uint64(len(l.edgeTypes)) {
				return fmt.Errorf("edge %d has type %d; meta lists %d types", len(g.edgeTo), v, len(l.edgeTypes))
			}
			typ = uint8(v)
		case l.edgeTo:
			if v%uint64(l.nodeFields) != 0 || v/uint64(l.nodeFields) >= nodes {
				return fmt.Errorf("edge %d points to %d, not the start of one of the %d nodes", len(g.edgeTo), v, nodes)
			}
			to = uint32(v / uint64(l.nodeFields))
		}
		field++
		if field < l.edgeFields {
			return nil
		}
		field = 0
		if uint32(len(g.edgeTo)) >= want {
			return fmt.Errorf("more edges than the nodes' edge counts add up to (%d)", want)
		}
		g.edgeType = append(g.edgeType, typ)
		g.edgeTo = append(g.edgeTo, to)
		return nil
	})
	if err != nil {
		return err
	}
	if field != 0 || uint32(len(g.edgeTo)) != want {
		return fmt.Errorf("\"edges\" has %d edges; the nodes' edge counts add up to %d", len(g.edgeTo), want)
	}
	return nil
}

// readStrings keeps the strings that name classes and maps each node to a class index.
func (g *graph) readStrings(s *scanner, needed []uint64) error {
	isNeeded := func(i int) bool {
		w := i / 64
		return w < len(needed) && needed[w]&(1<<(uint(i)%64)) != 0
	}
	kept := map[uint32]string{}
	count, err := s.stringArray("\"strings\"", isNeeded, maxClassName, func(i int, v string) {
		kept[uint32(i)] = v
	})
	if err != nil {
		return err
	}
	classIndex := map[string]uint32{}
	class := func(name string) uint32 {
		c, ok := classIndex[name]
		if !ok {
			c = uint32(len(g.classes))
			g.classes = append(g.classes, name)
			classIndex[name] = c
		}
		return c
	}
	byType := make([]uint32, len(g.l.nodeTypes))
	named := make([]bool, len(g.l.nodeTypes))
	for t, name := range g.l.nodeTypes {
		named[t] = classNamed(name)
		switch name {
		case "hidden":
			byType[t] = class("(system)")
		case "code":
			byType[t] = class("(compiled code)")
		default:
			byType[t] = class("(" + name + ")")
		}
	}
	byName := map[uint32]uint32{}
	for i, t := range g.nodeType {
		if !named[t] {
			g.nodeName[i] = byType[t]
			continue
		}
		n := g.nodeName[i]
		c, ok := byName[n]
		if !ok {
			if int(n) >= count {
				return fmt.Errorf("node %d names string %d; there are %d strings", i, n, count)
			}
			c = class(kept[n])
			byName[n] = c
		}
		g.nodeName[i] = c
	}
	return nil
}

// notVisited marks a node not reached from the root.
const notVisited = math.MaxUint32

// essential says whether an edge holds its target for the dominator tree, as DevTools
// decides it: weak edges never do, and shortcut edges only from the root (where they mark
// the user's global objects).
func (g *graph) essential(from uint32, e uint32) bool {
	t := int(g.edgeType[e])
	if t == g.l.weak {
		return false
	}
	return t != g.l.shortcut || from == 0
}

// summarize builds the dominator tree (Cooper, Harvey and Kennedy's iterative algorithm
// over a postorder numbering, as DevTools does) and aggregates by class.
func (g *graph) summarize(limit int) *SnapshotSummary {
	n := uint32(len(g.nodeType))
	sum := &SnapshotSummary{Nodes: int(n), Edges: len(g.edgeTo)}

	// Postorder from the root (node 0) over essential edges, iteratively.
	post := make([]uint32, n) // node -> postorder number
	for i := range post {
		post[i] = notVisited
	}
	order := make([]uint32, 0, n) // postorder number -> node
	type frame struct{ node, edge uint32 }
	seen := make([]bool, n)
	stack := []frame{{0, g.firstEdge[0]}}
	seen[0] = true
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.edge < g.firstEdge[top.node+1] {
			e := top.edge
			top.edge++
			to := g.edgeTo[e]
			if !seen[to] && g.essential(top.node, e) {
				seen[to] = true
				stack = append(stack, frame{to, g.firstEdge[to]})
			}
			continue
		}
		post[top.node] = uint32(len(order))
		order = append(order, top.node)
		stack = stack[:len(stack)-1]
	}
	seen = nil
	m := uint32(len(order)) // reachable nodes; the root is number m-1
	sum.Reachable = int(m)

	// Predecessors in postorder numbers, as a compressed list.
	predStart := make([]uint32, m+1)
	for v := uint32(0); v < n; v++ {
		if post[v] == notVisited {
			continue
		}
		for e := g.firstEdge[v]; e < g.firstEdge[v+1]; e++ {
			if to := g.edgeTo[e]; post[to] != notVisited && g.essential(v, e) {
				predStart[post[to]+1]++
			}
		}
	}
	for i := uint32(1); i <= m; i++ {
		predStart[i] += predStart[i-1]
	}
	preds := make([]uint32, predStart[m])
	fill := append([]uint32(nil), predStart[:m]...)
	for v := uint32(0); v < n; v++ {
		pv := post[v]
		if pv == notVisited {
			continue
		}
		for e := g.firstEdge[v]; e < g.firstEdge[v+1]; e++ {
			if to := g.edgeTo[e]; post[to] != notVisited && g.essential(v, e) {
				preds[fill[post[to]]] = pv
				fill[post[to]]++
			}
		}
	}
	fill = nil

	dom := make([]uint32, m)
	for i := range dom {
		dom[i] = notVisited
	}
	root := m - 1
	dom[root] = root
	for changed := true; changed; {
		changed = false
		for b := int64(root) - 1; b >= 0; b-- {
			idom := uint32(notVisited)
			for _, p := range preds[predStart[b]:predStart[b+1]] {
				if dom[p] == notVisited {
					continue
				}
				if idom == notVisited {
					idom = p
					continue
				}
				a, c := p, idom
				for a != c {
					for a < c {
						a = dom[a]
					}
					for c < a {
						c = dom[c]
					}
				}
				idom = a
			}
			if dom[b] != idom {
				dom[b] = idom
				changed = true
			}
		}
	}
	preds, predStart = nil, nil

	retained := make([]uint64, m)
	for i := uint32(0); i < m; i++ {
		retained[i] += g.nodeSelf[order[i]]
		if i != root {
			retained[dom[i]] += retained[i]
		}
	}
	sum.TotalBytes = retained[root] - g.nodeSelf[0]

	// Class totals. A class's retained size counts an object only when no dominator of it
	// has the same class: walk the dominator tree keeping, per class, how many ancestors on
	// the current path have it.
	classes := make([]SnapshotClass, len(g.classes))
	for i, name := range g.classes {
		classes[i].Name = name
	}
	childStart := make([]uint32, m+1)
	for i := uint32(0); i < root; i++ {
		childStart[dom[i]+1]++
	}
	for i := uint32(1); i <= m; i++ {
		childStart[i] += childStart[i-1]
	}
	children := make([]uint32, childStart[m])
	cfill := append([]uint32(nil), childStart[:m]...)
	for i := uint32(0); i < root; i++ {
		children[cfill[dom[i]]] = i
		cfill[dom[i]]++
	}
	cfill = nil
	open := make([]uint32, len(g.classes))
	type dframe struct{ v, next uint32 }
	dstack := []dframe{{root, childStart[root]}}
	enter := func(v uint32) {
		c := g.nodeName[order[v]]
		cl := &classes[c]
		cl.Count++
		cl.SelfBytes += g.nodeSelf[order[v]]
		if open[c] == 0 {
			cl.RetainedBytes += retained[v]
		}
		open[c]++
	}
	// The synthetic root is not an object of the heap: it is neither counted nor open.
	for len(dstack) > 0 {
		top := &dstack[len(dstack)-1]
		if top.next < childStart[top.v+1] {
			ch := children[top.next]
			top.next++
			enter(ch)
			dstack = append(dstack, dframe{ch, childStart[ch]})
			continue
		}
		if top.v != root {
			open[g.nodeName[order[top.v]]]--
		}
		dstack = dstack[:len(dstack)-1]
	}

	for _, c := range classes {
		if c.Count > 0 {
			sum.Classes = append(sum.Classes, c)
		}
	}
	sort.Slice(sum.Classes, func(a, b int) bool {
		x, y := sum.Classes[a], sum.Classes[b]
		if x.RetainedBytes != y.RetainedBytes {
			return x.RetainedBytes > y.RetainedBytes
		}
		if x.SelfBytes != y.SelfBytes {
			return x.SelfBytes > y.SelfBytes
		}
		return x.Name < y.Name
	})
	if limit > 0 && len(sum.Classes) > limit {
		sum.Classes = sum.Classes[:limit]
	}
	return sum
}
