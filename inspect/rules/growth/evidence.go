package growth

import (
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// evidence is the evidence of a growth finding. A fitted trend (watch) gives its rate, the
// fit and the first and last values over the window; two snapshots (diff) give the numbers
// before and after, the change and, when the interval gives one, the rate, and list what
// was added. Either adds the limit and the time left until it when they are known.
func evidence(g Growth) model.Evidence {
	var ev model.Evidence
	if g.Fit != nil {
		ev = model.Evidence{
			"first": model.Number(g.From), "last": model.Number(g.To), "window_seconds": model.Seconds(units.Round(g.Seconds, 1)),
			"fit_r2": model.Number(units.Round(g.Fit.R2, 3)), "samples": model.Count(g.Fit.Samples),
		}
		if g.Rate != nil {
			ev["rate_per_second"], ev["rate_per_hour"] = model.Rate(units.Round(*g.Rate, 4), "second"), model.Rate(units.Round(*g.Rate*3600, 1), "hour")
		}
	} else {
		ev = model.Evidence{"before": model.Number(g.From), "after": model.Number(g.To), "change": model.Number(g.To - g.From), "interval_seconds": model.Seconds(units.Round(g.Seconds, 1))}
		if g.Rate != nil {
			ev["rate_per_second"], ev["rate_per_hour"] = model.Rate(units.Round(*g.Rate, 3), "second"), model.Rate(units.Round(*g.Rate*3600, 1), "hour")
		}
		switch g.Code {
		case model.CodeFDGrowth:
			ev["added"] = model.Record(g.Added)
		case model.CodeCloseWaitGrowth:
			ev["peers"] = model.Record(g.Peers)
		}
	}
	if l := g.Limit; l != nil {
		ev["limit"] = model.Number(l.Value)
		if l.Named {
			ev["limit_name"] = model.Text(l.Name)
		}
		ev["time_to_limit_seconds"] = model.Seconds(units.Round(l.Seconds, 0))
	}
	return ev
}
