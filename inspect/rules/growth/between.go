package growth

import "github.com/nodeinspect/nodeinspect/internal/units"

// Between is the growth of a metric from before to after over seconds (two snapshots):
// with rates, the rate per second and, when limit is known and above after, the time left
// until it in whole seconds, named limitName. The caller sets the code, the words and
// what the finding lists.
func Between(before, after, seconds float64, rates bool, limit *float64, limitName string) Growth {
	g := Growth{From: before, To: after, Seconds: seconds}
	if seconds <= 0 || !rates {
		return g
	}
	rate := (after - before) / seconds
	g.Rate = &rate
	if limit != nil && rate > 0 && *limit > after {
		g.Limit = &Limit{Value: *limit, Name: limitName, Seconds: units.Round((*limit-after)/rate, 0)}
	}
	return g
}
