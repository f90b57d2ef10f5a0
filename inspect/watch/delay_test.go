package watch

import (
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/internal/trend"
)

// TestWatchDelayFinding: watch raises EVENT_LOOP_DELAY on its worst sample, warning from a
// p99 of 100 ms, critical from 1 s, and none without a measured delay.
func TestWatchDelayFinding(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	samples := func(p99s ...float64) []*model.Sample {
		var out []*model.Sample
		for i, p := range p99s {
			s := &model.Sample{Seq: i, PID: 7, TakenAt: t0.Add(time.Duration(i) * time.Second)}
			if p >= 0 {
				s.EventLoopDelay = &model.LoopDelay{P50MS: f(10), P99MS: f(p), MaxMS: f(p + 1), Utilization: f(0.4), WindowMS: 1000}
			}
			out = append(out, s)
		}
		return out
	}
	find := func(ss []*model.Sample) *model.Finding {
		for _, x := range Summarize(ss, "duration", trend.DefaultRule(), t0).Findings {
			if x.Code == "EVENT_LOOP_DELAY" {
				return &x
			}
		}
		return nil
	}
	if got := find(samples(-1, 20, 99, 30)); got != nil {
		t.Errorf("p99 below 100 ms: %+v", got)
	}
	if got := find(samples(-1, -1)); got != nil {
		t.Errorf("nothing measured: %+v", got)
	}
	got := find(samples(-1, 20, 150, 120, 30))
	if got == nil || got.Severity != model.SeverityWarning {
		t.Fatalf("p99 150 ms: %+v", got)
	}
	if got.Evidence["p99_ms"] != evidence.Millis(150.0) || got.Evidence["worst_seq"] != evidence.Int(2) || got.Evidence["samples_over_warning"] != evidence.Count(2) || got.Evidence["samples_measured"] != evidence.Count(4) {
		t.Errorf("evidence %v", got.Evidence)
	}
	if want := "Callbacks wait up to 150 ms for the event loop (p99 over the worst sample's 1s"; !strings.HasPrefix(got.Summary, want) || !strings.Contains(got.Summary, "in 2 of 4 samples") {
		t.Errorf("summary %q", got.Summary)
	}
	if got := find(samples(-1, 1200)); got == nil || got.Severity != model.SeverityCritical {
		t.Errorf("p99 1.2 s: %+v", got)
	}
}
