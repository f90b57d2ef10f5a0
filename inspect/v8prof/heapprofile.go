package v8prof

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// HeapNode is one node of a sampling heap profile's allocation tree
// (HeapProfiler.SamplingHeapProfileNode): SelfSize bytes allocated by this call path and
// still alive when sampling stopped.
type HeapNode struct {
	CallFrame CallFrame   `json:"callFrame"`
	SelfSize  int64       `json:"selfSize"`
	ID        int         `json:"id"`
	Children  []*HeapNode `json:"children"`
}

// HeapSample is one sampled allocation still alive (HeapProfiler.SamplingHeapProfileSample).
type HeapSample struct {
	Size    int64   `json:"size"`
	NodeID  int     `json:"nodeId"`
	Ordinal float64 `json:"ordinal"`
}

// HeapProfile is HeapProfiler.SamplingHeapProfile, the result of stopSampling (and the
// content of a .heapprofile file). SamplingInterval is the mean bytes between samples, set
// by the caller (V8 does not echo it back).
type HeapProfile struct {
	Head             *HeapNode    `json:"head"`
	Samples          []HeapSample `json:"samples"`
	SamplingInterval int64        `json:"-"`
}

// ErrNotHeapProfile says the data is not a SamplingHeapProfile.
var ErrNotHeapProfile = errors.New("not a V8 sampling heap profile")

// maxHeapProfileDepth bounds the allocation tree's depth: V8 cuts stacks far shorter
// (--stack-trace-limit style), so a deeper tree is malformed input.
const maxHeapProfileDepth = 10000

// ParseHeapProfile decodes a SamplingHeapProfile and checks it.
func ParseHeapProfile(data []byte) (*HeapProfile, error) {
	var h HeapProfile
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotHeapProfile, err)
	}
	if h.Head == nil {
		return nil, fmt.Errorf("%w: no head node", ErrNotHeapProfile)
	}
	var err error
	depth := 0
	var check func(n *HeapNode)
	check = func(n *HeapNode) {
		depth++
		defer func() { depth-- }()
		if err != nil {
			return
		}
		if n == nil {
			err = fmt.Errorf("%w: a null node", ErrNotHeapProfile)
			return
		}
		if depth > maxHeapProfileDepth {
			err = fmt.Errorf("%w: the tree is deeper than %d", ErrNotHeapProfile, maxHeapProfileDepth)
			return
		}
		if n.SelfSize < 0 {
			err = fmt.Errorf("%w: node %d has a negative size", ErrNotHeapProfile, n.ID)
			return
		}
		for _, c := range n.Children {
			check(c)
		}
	}
	check(h.Head)
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// walk calls fn for every node with its stack (outermost first, without the (root) head).
func (h *HeapProfile) walk(fn func(n *HeapNode, stack []CallFrame)) {
	var stack []CallFrame
	var visit func(n *HeapNode, depth int)
	visit = func(n *HeapNode, depth int) {
		if n == nil || depth > maxHeapProfileDepth {
			return
		}
		isRoot := n == h.Head
		if !isRoot {
			stack = append(stack, n.CallFrame)
		}
		fn(n, append([]CallFrame(nil), stack...))
		for _, c := range n.Children {
			visit(c, depth+1)
		}
		if !isRoot {
			stack = stack[:len(stack)-1]
		}
	}
	visit(h.Head, 0)
}

func (h *HeapProfile) sampleCounts() map[int]int {
	m := map[int]int{}
	for _, s := range h.Samples {
		m[s.NodeID]++
	}
	return m
}

// AllocationSite is one function's share of the live memory a sampling heap profile found.
type AllocationSite struct {
	Frame     Frame
	SelfBytes int64 // bytes allocated directly by this function, still alive
	Samples   int   // V8 samples that found them
	Percent   float64
}

// HeapProfileSummary is the terminal view of a sampling heap profile.
type HeapProfileSummary struct {
	TotalBytes int64
	Sites      []AllocationSite // largest first
}

// Summarize aggregates live bytes by allocating function (at most limit sites; <= 0: all).
func (h *HeapProfile) Summarize(limit int) HeapProfileSummary {
	counts := h.sampleCounts()
	sites := map[funcKey]*AllocationSite{}
	var total int64
	h.walk(func(n *HeapNode, _ []CallFrame) {
		if n.SelfSize <= 0 || n == h.Head {
			return
		}
		total += n.SelfSize
		k := keyOf(n.CallFrame)
		s := sites[k]
		if s == nil {
			s = &AllocationSite{Frame: n.CallFrame.Frame()}
			sites[k] = s
		}
		s.SelfBytes += n.SelfSize
		s.Samples += counts[n.ID]
	})
	out := HeapProfileSummary{TotalBytes: total}
	for _, s := range sites {
		if total > 0 {
			s.Percent = 100 * float64(s.SelfBytes) / float64(total)
		}
		out.Sites = append(out.Sites, *s)
	}
	sort.Slice(out.Sites, func(a, b int) bool {
		if out.Sites[a].SelfBytes != out.Sites[b].SelfBytes {
			return out.Sites[a].SelfBytes > out.Sites[b].SelfBytes
		}
		return out.Sites[a].Frame.String() < out.Sites[b].Frame.String()
	})
	out.Sites = clip(out.Sites, limit)
	return out
}
