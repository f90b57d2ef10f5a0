package profile

import (
	"github.com/nodeinspect/nodeinspect/inspect/heapsnap"
	"github.com/nodeinspect/nodeinspect/inspect/jsstack"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/v8prof"
)

// NewCPUDoc summarises a profile with at most top functions per list; frames go
// through fm's source maps (nil: none).
func NewCPUDoc(p *v8prof.CPUProfile, top int, end model.ProfileEnd, fm *jsstack.FrameMapper) *model.CPUProfileDoc {
	s := p.Summarize(top)
	d := &model.CPUProfileDoc{
		DurationMS: float64(s.DurationUs) / 1000, IntervalUS: s.IntervalUs, Samples: s.Samples,
		IdlePercent: s.IdlePercent, ProgramPercent: s.ProgramPercent, GCPercent: s.GCPercent, JSPercent: s.JSPercent,
		Idle: s.Idle, HottestPercent: s.HotShare, Ended: end,
		Top: []model.ProfileFunction{}, TopTotal: []model.ProfileFunction{}, HottestStack: []model.ProfileFrame{},
	}
	conv := func(st v8prof.FunctionStat) model.ProfileFunction {
		f := model.ProfileFrame{Function: st.Frame.Function, URL: st.Frame.URL, Line: st.Frame.Line, Column: st.Frame.Column}
		fm.Map(&f, st.Frame.ScriptID)
		return model.ProfileFunction{Function: f.Function, URL: f.URL, Line: f.Line, Mapped: f.Mapped,
			SelfMS: float64(st.SelfUs) / 1000, SelfPercent: st.SelfPercent, TotalMS: float64(st.TotalUs) / 1000,
			TotalPercent: st.TotalPercent, SelfSamples: st.SelfSamples, TotalSamples: st.TotalSamples}
	}
	if !s.Idle {
		for _, st := range s.BySelf {
			d.Top = append(d.Top, conv(st))
		}
		for _, st := range s.ByTotal {
			d.TopTotal = append(d.TopTotal, conv(st))
		}
		for _, f := range s.Hottest {
			pf := model.ProfileFrame{Function: f.Function, URL: f.URL, Line: f.Line, Column: f.Column}
			fm.Map(&pf, f.ScriptID)
			d.HottestStack = append(d.HottestStack, pf)
		}
	}
	return d
}

// NewSamplingHeapDoc summarises a sampling heap profile.
func NewSamplingHeapDoc(h *v8prof.HeapProfile, top int, end model.ProfileEnd) *model.HeapReportDoc {
	s := h.Summarize(top)
	d := &model.HeapReportDoc{Mode: "sampling", TotalBytes: uint64(s.TotalBytes), Top: []model.HeapRow{}, Ended: end}
	for _, site := range s.Sites {
		url, line := site.Frame.URL, site.Frame.Line
		d.Top = append(d.Top, model.HeapRow{Name: site.Frame.Function, URL: &url, Line: &line, SelfBytes: uint64(site.SelfBytes)})
	}
	return d
}

// NewSnapshotHeapDoc summarises a heap snapshot.
func NewSnapshotHeapDoc(s *heapsnap.SnapshotSummary, top int) *model.HeapReportDoc {
	d := &model.HeapReportDoc{Mode: "snapshot", TotalBytes: s.TotalBytes, Top: []model.HeapRow{}, Nodes: &s.Nodes, Reachable: &s.Reachable}
	for i, c := range s.Classes {
		if top > 0 && i >= top {
			break
		}
		count, retained := c.Count, c.RetainedBytes
		d.Top = append(d.Top, model.HeapRow{Name: c.Name, Count: &count, SelfBytes: c.SelfBytes, RetainedBytes: &retained})
	}
	return d
}
