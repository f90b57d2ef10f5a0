package watch

import (
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/inspect/rules/growth"
	"github.com/nodeinspect/nodeinspect/internal/trend"
)

// Summarize fits the trends of a watch and turns steady growth into findings, and the
// event-loop delay measured with --attach into EVENT_LOOP_DELAY.
func Summarize(samples []*model.Sample, ended string, rule trend.Rule, now time.Time) *model.WatchSummary {
	sum := &model.WatchSummary{Schema: model.Schema, Type: "summary", TakenAt: now.UTC(), Samples: len(samples), Ended: ended, Findings: []model.Finding{}, Warnings: []string{}}
	if len(samples) == 0 {
		return sum
	}
	last := samples[len(samples)-1]
	sum.PID = last.PID
	sum.Seconds = last.TakenAt.Sub(samples[0].TakenAt).Seconds()
	type metric struct {
		code       model.Code
		what, unit string
		series     Series
		limit      *float64
		limitName  string
		advice     string
		// minGrowth is the rise over the window (absolute, and as a fraction of the first
		// value) below which a steady slope is too small to report.
		minGrowth, minFraction float64
	}
	var fdLimit *float64
	if last.OpenFilesSoft != nil {
		fdLimit = new(float64(*last.OpenFilesSoft))
	}
	heapSeries, heapLimit, heapLimitName := heapGrowthSeries(samples)
	metrics := []metric{
		{model.CodeFDGrowth, "Open fds", "fds", seriesOf(samples, "fds"), fdLimit, "EMFILE",
			"Something opens fds and never closes them: `nodeinspect fds` (or two snapshots and `nodeinspect diff`) shows which type grows.", 5, 0},
		{model.CodeCloseWaitGrowth, "CLOSE_WAIT sockets", "sockets", seriesOf(samples, "close_wait"), fdLimit, "EMFILE",
			"Peers close connections this process never closes: call socket.end()/destroy() after the peer's FIN and on every error path.", 5, 0},
		{model.CodeRSSGrowth, "RSS", "bytes", seriesOf(samples, "rss_bytes"), nil, "",
			"RSS grows steadily: compare with the V8 heap (process.memoryUsage() in the process) to tell a JavaScript leak from Buffers or native memory.", 8 << 20, 0.05},
		{model.CodeHeapGrowth, "V8 heap used", "bytes", heapSeries, heapLimit, heapLimitName,
			"The V8 heap grows under its GC sawtooth: take two heap snapshots and compare what is retained.", 8 << 20, 0.05},
	}
	for _, m := range metrics {
		if len(m.series.Points) < rule.MinSamples {
			continue
		}
		tr, err := rule.Fit(m.series.Points)
		if err != nil || !tr.Growing {
			continue
		}
		current := m.series.Points[len(m.series.Points)-1].V
		first := m.series.Points[0].V
		if rise := tr.Slope * tr.Span.Seconds(); rise < m.minGrowth || (first > 0 && rise/first < m.minFraction) {
			continue
		}
		g := growth.Growth{Code: m.code, What: m.what, Unit: m.unit, From: first, To: current, Seconds: sum.Seconds,
			Rate: &tr.Slope, Fit: &growth.Fit{R2: tr.R2, Samples: len(m.series.Points)}, Advice: m.advice}
		if m.limit != nil {
			target := *m.limit
			if m.code == model.CodeCloseWaitGrowth {
				var open *float64
				if fds, ok := model.IntValue(last.FDsOpen); ok {
					open = &fds
				}
				target = growth.CloseWaitTarget(current, *m.limit, open)
			}
			if d, ok := tr.TimeToReach(target, current); ok {
				g.Limit = &growth.Limit{Value: *m.limit, Name: m.limitName, Named: m.code == model.CodeHeapGrowth, Seconds: d.Seconds()}
			}
		}
		sum.Findings = append(sum.Findings, growth.Finding(g))
	}
	if f := watchDelayFinding(samples, rules.Thresholds{}); f != nil {
		sum.Findings = append(sum.Findings, *f)
	}
	rules.SortFindings(sum.Findings)
	return sum
}

// heapGrowthSeries is what HEAP_GROWTH fits and the limit its time to OOM runs to: heap
// used (old and young generations) against the point where V8 may end the process, 80% of
// the old generation's limit (inspect's heap limit), when the samples know that limit; else
// against V8's heap limit, which includes the young generation's reserve and so predicts
// the OOM too late (a 48 MiB reserve is 27% of the limit at --max-old-space-size=128).
//
// Heap used, not the old generation alone: leaked objects wait in the young generation
// (its semi-space grows to 16 MiB) until a scavenge promotes them, so over a short watch the
// old generation rises in steps and lags what the process retains. Measured at
// --max-old-space-size=128, leaking 4 MiB/s: the old generation stayed at 63.0 MiB for five
// samples (1.25 s) while heap used rose from 72 to 79 MiB, then jumped to 76.7 MiB. Heap
// used, from its lower envelope (the troughs after each scavenge), grows at the leak's rate
// and is never below what will be promoted, so the time to OOM is not optimistic.
func heapGrowthSeries(samples []*model.Sample) (series Series, limit *float64, limitName string) {
	last := samples[len(samples)-1]
	limit, limitName = growth.HeapLimit(last.OldSpaceLimitBytes, last.HeapLimitBytes)
	return seriesOf(samples, "heap_used_bytes"), limit, limitName
}
