package growth

import (
	"fmt"

	"github.com/nodeinspect/nodeinspect/internal/units"
)

// summary says a growth in one line: a fitted trend by its rate and fit, or by the time
// left until its limit; two snapshots by the numbers, and the time left when known.
func summary(g Growth) string {
	if g.Fit != nil {
		return trendSummary(g)
	}
	change := g.To - g.From
	if g.Unit == "bytes" {
		s := fmt.Sprintf("%s grew by %s (%.0f%%) between the snapshots", g.What, units.SignedBytes(int64(change)), change/g.From*100)
		if g.Limit != nil && g.Rate != nil {
			s += fmt.Sprintf(": %s in %s at +%s/h", g.Limit.Name, durationWords(g.Limit.Seconds), units.SignedBytes(int64(*g.Rate*3600)))
		}
		return s
	}
	s := fmt.Sprintf("%s grew from %.0f to %.0f", g.What, g.From, g.To)
	if g.Cause != "" {
		s += ": " + g.Cause
	} else {
		s += fmt.Sprintf(" (+%.0f)", change)
	}
	if g.Limit != nil && g.Rate != nil {
		s += fmt.Sprintf(": %s in %s at +%.2f %s/s", g.Limit.Name, durationWords(g.Limit.Seconds), units.Round(*g.Rate, 3), g.Unit)
	}
	return s
}

// trendSummary says a fitted trend: the time left until its limit when known, else its
// rate and the fit.
func trendSummary(g Growth) string {
	var rate float64
	if g.Rate != nil {
		rate = *g.Rate
	}
	perTime := fmt.Sprintf("+%.2f %s/s", rate, g.Unit)
	if g.Unit == "bytes" {
		perTime = "+" + units.SignedBytes(int64(rate*3600)) + "/h"
	}
	if g.Limit != nil {
		return fmt.Sprintf("%s: steady growth, %s in %s at %s", g.What, g.Limit.Name, durationWords(g.Limit.Seconds), perTime)
	}
	return fmt.Sprintf("%s: steady growth at %s (fit R² %.2f over %d samples)", g.What, perTime, g.Fit.R2, g.Fit.Samples)
}
