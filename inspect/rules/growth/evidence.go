package growth

import (
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// evidenceOf is the evidence of a growth finding. A fitted trend (watch) gives its rate, the
// fit and the first and last values over the window; two snapshots (diff) give the numbers
// before and after, the change and, when the interval gives one, the rate, and list what
// was added. Either adds the limit and the time left until it when they are known.
func evidenceOf(g Growth) evidence.Evidence {
	var ev evidence.Evidence
	if g.Fit != nil {
		ev = evidence.Evidence{
			"first": evidence.Number(g.From), "last": evidence.Number(g.To), "window_seconds": evidence.Seconds(units.Round(g.Seconds, 1)),
			"fit_r2": evidence.Number(units.Round(g.Fit.R2, 3)), "samples": evidence.Count(g.Fit.Samples),
		}
		if g.Rate != nil {
			ev["rate_per_second"], ev["rate_per_hour"] = evidence.Rate(units.Round(*g.Rate, 4), "second"), evidence.Rate(units.Round(*g.Rate*3600, 1), "hour")
		}
	} else {
		ev = evidence.Evidence{"before": evidence.Number(g.From), "after": evidence.Number(g.To), "change": evidence.Number(g.To - g.From), "interval_seconds": evidence.Seconds(units.Round(g.Seconds, 1))}
		if g.Rate != nil {
			ev["rate_per_second"], ev["rate_per_hour"] = evidence.Rate(units.Round(*g.Rate, 3), "second"), evidence.Rate(units.Round(*g.Rate*3600, 1), "hour")
		}
		switch g.Code {
		case model.CodeFDGrowth:
			ev["added"] = evidence.Record(g.Added)
		case model.CodeCloseWaitGrowth:
			ev["peers"] = evidence.Record(g.Peers)
		}
	}
	if l := g.Limit; l != nil {
		ev["limit"] = evidence.Number(l.Value)
		if l.Named {
			ev["limit_name"] = evidence.Text(l.Name)
		}
		ev["time_to_limit_seconds"] = evidence.Seconds(units.Round(l.Seconds, 0))
	}
	return ev
}
