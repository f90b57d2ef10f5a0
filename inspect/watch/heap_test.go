package watch

import (
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/internal/trend"
)

// heapSamples is a watch of a leak: old generation used grows rate bytes/s from start
// (under --max-old-space-size=128), heap used is the old generation plus a young
// generation sawtooth.
func heapSamples(n int, start, rate float64, withOld bool) []*model.Sample {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	var out []*model.Sample
	for i := 0; i < n; i++ {
		old := uint64(start + rate*float64(i)*0.25)
		used := old + uint64(i%4)*mib // the young generation's sawtooth
		s := &model.Sample{TakenAt: t0.Add(time.Duration(i) * 250 * time.Millisecond), PID: 7, Seq: i,
			HeapUsedBytes: u64(used), HeapLimitBytes: u64(176 * mib)}
		if withOld {
			s.OldSpaceUsedBytes, s.OldSpaceLimitBytes = u64(old), u64(128*mib)
		}
		out = append(out, s)
	}
	return out
}

func TestHeapGrowthTimeToOOM(t *testing.T) {
	// 64 MiB retained, 4 MiB/s more: the watch ends at 4.75 s (20 samples) with 83 MiB of
	// old generation and 3 MiB more in the young one (86 MiB of heap used, the level), the
	// troughs of heap used rising 4 MiB/s: (102.4 − 86) / 4 = 4.1 s to 80% of 128 MiB.
	hasGrowth := func(samples []*model.Sample) *model.Finding {
		sum := Summarize(samples, "duration", trend.DefaultRule(), time.Now())
		for i := range sum.Findings {
			if sum.Findings[i].Code == "HEAP_GROWTH" {
				return &sum.Findings[i]
			}
		}
		t.Fatalf("no HEAP_GROWTH: %+v", sum.Findings)
		return nil
	}
	f := hasGrowth(heapSamples(20, 64*mib, 4*mib, true))
	ttl, _ := f.Evidence["time_to_limit_seconds"].Float()
	if ttl < 3.5 || ttl > 4.5 || f.Evidence["limit"] != evidence.Number(float64(128*mib)*0.8) {
		t.Errorf("evidence %v", f.Evidence)
	}
	// Against V8's heap limit (176 MiB) the same leak looked 22 s away: too late.
	f = hasGrowth(heapSamples(20, 64*mib, 4*mib, false))
	if ttl2, _ := f.Evidence["time_to_limit_seconds"].Float(); f.Evidence["limit"] != evidence.Number(float64(176*mib)) || ttl2 < 4*ttl {
		t.Errorf("heap limit only: %v", f.Evidence)
	}
}
