package growth

import (
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// evidence is the evidence of a growth finding. A fitted trend (watch) gives its rate, the
// fit and the first and last values over the window; two snapshots (diff) give the numbers
// before and after, the change and, when the interval gives one, the rate, and list what
// was added. Either adds the limit and the time left until it when they are known.
func evidence(g Growth) map[string]any {
	var ev map[string]any
	if g.Fit != nil {
		ev = map[string]any{
			"first": g.From, "last": g.To, "window_seconds": units.Round(g.Seconds, 1),
			"fit_r2": units.Round(g.Fit.R2, 3), "samples": g.Fit.Samples,
		}
		if g.Rate != nil {
			ev["rate_per_second"], ev["rate_per_hour"] = units.Round(*g.Rate, 4), units.Round(*g.Rate*3600, 1)
		}
	} else {
		ev = map[string]any{"before": g.From, "after": g.To, "change": g.To - g.From, "interval_seconds": units.Round(g.Seconds, 1)}
		if g.Rate != nil {
			ev["rate_per_second"], ev["rate_per_hour"] = units.Round(*g.Rate, 3), units.Round(*g.Rate*3600, 1)
		}
		switch g.Code {
		case model.CodeFDGrowth:
			ev["added"] = g.Added
		case model.CodeCloseWaitGrowth:
			ev["peers"] = g.Peers
		}
	}
	if l := g.Limit; l != nil {
		ev["limit"] = l.Value
		if l.Named {
			ev["limit_name"] = l.Name
		}
		ev["time_to_limit_seconds"] = units.Round(l.Seconds, 0)
	}
	return ev
}
