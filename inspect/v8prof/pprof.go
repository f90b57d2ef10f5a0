package v8prof

// This is the only file that imports github.com/google/pprof: a version change of the
// pprof format touches nothing else.

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// pprofBuilder turns V8 call frames into pprof functions and locations, one each per
// distinct frame.
type pprofBuilder struct {
	prof  *profile.Profile
	funcs map[funcKey]*profile.Function
	locs  map[funcKey]*profile.Location
}

func newPprofBuilder(p *profile.Profile) *pprofBuilder {
	return &pprofBuilder{prof: p, funcs: map[funcKey]*profile.Function{}, locs: map[funcKey]*profile.Location{}}
}

func (b *pprofBuilder) location(c CallFrame) *profile.Location {
	k := keyOf(c)
	if l := b.locs[k]; l != nil {
		return l
	}
	f := c.Frame()
	fn := b.funcs[k]
	if fn == nil {
		fn = &profile.Function{ID: uint64(len(b.prof.Function) + 1), Name: f.Function, SystemName: f.Function, Filename: f.URL, StartLine: int64(f.Line)}
		b.funcs[k] = fn
		b.prof.Function = append(b.prof.Function, fn)
	}
	l := &profile.Location{ID: uint64(len(b.prof.Location) + 1), Line: []profile.Line{{Function: fn, Line: int64(f.Line), Column: int64(f.Column)}}}
	b.locs[k] = l
	b.prof.Location = append(b.prof.Location, l)
	return l
}

// stackLocations returns pprof locations innermost first, as pprof wants them.
func (b *pprofBuilder) stackLocations(frames []CallFrame) []*profile.Location {
	locs := make([]*profile.Location, len(frames))
	for i, c := range frames {
		locs[len(frames)-1-i] = b.location(c)
	}
	return locs
}

// WritePprof writes the CPU profile as a gzipped pprof protobuf (.pb.gz): two sample
// values per stack, the sample count and the CPU time in nanoseconds. takenAt stamps the
// profile (V8's own clock is not wall time).
func (p *CPUProfile) WritePprof(w io.Writer, takenAt time.Time) error {
	if p.index == nil {
		if err := p.link(); err != nil {
			return err
		}
	}
	sum := p.Summarize(1)
	prof := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        int64(sum.IntervalUs * 1000),
		TimeNanos:     takenAt.UnixNano(),
		DurationNanos: sum.DurationUs * 1000,
	}
	b := newPprofBuilder(prof)
	weights := p.sampleWeights()
	counts := make([]int64, len(p.Nodes))
	times := make([]int64, len(p.Nodes))
	for i, id := range p.Samples {
		ni := p.index[id]
		counts[ni]++
		times[ni] += weights[i] * 1000
	}
	for i := range p.Nodes {
		if counts[i] == 0 {
			continue
		}
		prof.Sample = append(prof.Sample, &profile.Sample{
			Location: b.stackLocations(p.stack(i)),
			Value:    []int64{counts[i], times[i]},
		})
	}
	if err := prof.CheckValid(); err != nil {
		return err
	}
	return prof.Write(w)
}

// WritePprof writes the sampling heap profile as a gzipped pprof protobuf: one sample per
// allocation stack with the bytes it holds (inuse_space) and the number of V8 samples that
// found them (inuse_objects, the sampled count, not every object).
func (h *HeapProfile) WritePprof(w io.Writer, takenAt time.Time) error {
	prof := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"}},
		PeriodType: &profile.ValueType{Type: "space", Unit: "bytes"},
		Period:     h.SamplingInterval,
		TimeNanos:  takenAt.UnixNano(),
	}
	if prof.Period <= 0 {
		prof.Period = 512 * 1024
	}
	b := newPprofBuilder(prof)
	counts := h.sampleCounts()
	h.walk(func(n *HeapNode, stack []CallFrame) {
		if n.SelfSize <= 0 {
			return
		}
		prof.Sample = append(prof.Sample, &profile.Sample{
			Location: b.stackLocations(stack),
			Value:    []int64{int64(counts[n.ID]), n.SelfSize},
		})
	})
	if err := prof.CheckValid(); err != nil {
		return err
	}
	return prof.Write(w)
}

// FoldedFromPprof reads a pprof profile (.pb.gz) and writes its stacks collapsed, one line
// per sample, "outer;...;inner VALUE" with the value of sample type index valueIndex (-1:
// the last, e.g. cpu nanoseconds or inuse_space). It lets any pprof profile, ours or Go's,
// become a flame graph without graphviz.
func FoldedFromPprof(r io.Reader, w io.Writer, valueIndex int) error {
	p, err := profile.Parse(r)
	if err != nil {
		return err
	}
	if valueIndex < 0 {
		valueIndex = len(p.SampleType) - 1
	}
	if valueIndex < 0 || valueIndex >= len(p.SampleType) {
		return fmt.Errorf("the profile has %d sample types; no index %d", len(p.SampleType), valueIndex)
	}
	bw := bufio.NewWriter(w)
	for _, s := range p.Sample {
		var frames []string
		for i := len(s.Location) - 1; i >= 0; i-- {
			lines := s.Location[i].Line
			for j := len(lines) - 1; j >= 0; j-- {
				name := "?"
				if fn := lines[j].Function; fn != nil {
					name = fn.Name
					if fn.Filename != "" {
						name += " (" + fn.Filename + ":" + strconv.FormatInt(lines[j].Line, 10) + ")"
					}
				}
				frames = append(frames, strings.NewReplacer(";", ",", "\n", " ").Replace(name))
			}
		}
		if v := s.Value[valueIndex]; v > 0 {
			fmt.Fprintf(bw, "%s %d\n", strings.Join(frames, ";"), v)
		}
	}
	return bw.Flush()
}
