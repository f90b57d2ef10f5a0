package report

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

// writeJSON writes v with two-space indentation (or on one line when compact) and a final
// newline. HTML characters are not escaped: the output is for terminals and jq, not for a
// web page.
func writeJSON(buf *bytes.Buffer, v any, compact bool) error {
	enc := json.NewEncoder(buf)
	if !compact {
		enc.SetIndent("", "  ")
	}
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	return nil
}

// snapshotForJSON returns the document to marshal for s: s itself when it already has the
// contract's shape, otherwise a copy in which every list or map of a collected section that
// the model left nil is empty ([] or {}), so it marshals as "collected, nothing there" and
// not as null. Sections that are nil stay nil (null: not collected or unreadable). s is
// never modified.
func snapshotForJSON(s *model.Snapshot) *model.Snapshot {
	c := *s
	if c.Schema == "" {
		c.Schema = model.Schema
	}
	if c.Warnings == nil {
		c.Warnings = []string{}
	}
	c.Findings = findingsForJSON(c.Findings)
	if c.Process != nil && c.Process.Cmdline == nil {
		p := *c.Process
		p.Cmdline = []string{}
		c.Process = &p
	}
	// A table known only by its count (counted_from "dir_size") keeps null types and list.
	if c.FDs != nil && c.FDs.CountedFrom == "" && (c.FDs.ByType == nil || c.FDs.List == nil) {
		f := *c.FDs
		if f.ByType == nil {
			f.ByType = map[string]int{}
		}
		if f.List == nil {
			f.List = []model.FD{}
		}
		c.FDs = &f
	}
	if c.Sockets != nil {
		c.Sockets = socketsForJSON(c.Sockets)
	}
	if c.Children != nil {
		c.Children = childrenForJSON(c.Children, map[*model.Child]bool{})
	}
	if c.Orphans != nil {
		orphans := make([]model.Orphan, len(c.Orphans))
		for i, o := range c.Orphans {
			if o.Cmdline == nil {
				o.Cmdline = []string{}
			}
			orphans[i] = o
		}
		c.Orphans = orphans
	}
	if c.EventLoop != nil && c.EventLoop.Seen == nil {
		l := *c.EventLoop
		l.Seen = map[string]int{}
		c.EventLoop = &l
	}
	return &c
}

// findingsForJSON returns findings as a non-nil list whose evidence maps are non-nil.
func findingsForJSON(in []model.Finding) []model.Finding {
	out := make([]model.Finding, len(in))
	for i, f := range in {
		if f.Evidence == nil {
			f.Evidence = evidence.Evidence{}
		}
		out[i] = f
	}
	return out
}

// socketsForJSON returns a copy of s with empty maps and lists instead of nil ones.
func socketsForJSON(s *model.SocketSummary) *model.SocketSummary {
	c := *s
	if c.ByState == nil {
		c.ByState = map[string]int{}
	}
	if c.ByProto == nil {
		c.ByProto = map[string]int{}
	}
	peers := make([]model.PeerGroup, len(c.ByPeer))
	for i, g := range c.ByPeer {
		if g.LocalPorts == nil {
			g.LocalPorts = []int{}
		}
		peers[i] = g
	}
	c.ByPeer = peers
	return &c
}

// childrenForJSON copies a tree, with [] for a nil list of children or nil command line.
// A nil entry, and a node met a second time (a cycle in a corrupt tree), are dropped: the
// contract has no null children, and a cycle cannot be marshalled.
func childrenForJSON(in []*model.Child, seen map[*model.Child]bool) []*model.Child {
	out := make([]*model.Child, 0, len(in))
	for _, ch := range in {
		if ch == nil || seen[ch] {
			continue
		}
		seen[ch] = true
		c := *ch
		if c.Cmdline == nil {
			c.Cmdline = []string{}
		}
		c.Children = childrenForJSON(c.Children, seen)
		out = append(out, &c)
	}
	return out
}

// psForJSON returns a copy of res with [] for nil lists.
func psForJSON(res *model.PSResult) *model.PSResult {
	c := *res
	if c.Schema == "" {
		c.Schema = model.Schema
	}
	if c.Warnings == nil {
		c.Warnings = []string{}
	}
	rows := make([]model.PSRow, len(c.Processes))
	for i, p := range c.Processes {
		if p.Flags == nil {
			p.Flags = []model.Code{}
		}
		if p.Cmdline == nil {
			p.Cmdline = []string{}
		}
		rows[i] = p
	}
	c.Processes = rows
	return &c
}

// writeJSONLine writes v as one line of JSON (JSON Lines), for streams such as watch.
func writeJSONLine(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	return nil
}
