package watch

import (
	"fmt"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

// watchDelayFinding is watch --attach's EVENT_LOOP_DELAY: each sample carries the delay the
// process measured since the previous one, and the finding is raised on the worst of them
// (the highest p99), with the same thresholds as report --attach. A watch keeps no
// histogram across samples, so the worst sample's p99 stands for the watch; how many
// samples reached the warning threshold says whether it was one spike or the rule. nil
// when no sample measured a delay or none reached the threshold.
func watchDelayFinding(samples []*model.Sample, th rules.Thresholds) *model.Finding {
	warn, _ := rules.DelayLimits(th)
	var worst *model.Sample
	measured, over := 0, 0
	for _, s := range samples {
		d := s.EventLoopDelay
		if d == nil || d.P99MS == nil {
			continue
		}
		measured++
		if *d.P99MS >= warn {
			over++
		}
		if worst == nil || *d.P99MS > *worst.EventLoopDelay.P99MS {
			worst = s
		}
	}
	if worst == nil {
		return nil
	}
	window := (time.Duration(worst.EventLoopDelay.WindowMS) * time.Millisecond).String()
	f := rules.DelayFinding(worst.EventLoopDelay, th, fmt.Sprintf("the worst sample's %s", window))
	if f == nil {
		return nil
	}
	f.Summary += fmt.Sprintf("; p99 at or above %.0f ms in %d of %d samples", warn, over, measured)
	f.Evidence["samples_measured"] = evidence.Count(measured)
	f.Evidence["samples_over_warning"] = evidence.Count(over)
	f.Evidence["worst_seq"] = evidence.Int(worst.Seq)
	return f
}
