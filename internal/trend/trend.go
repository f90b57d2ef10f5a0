// Package trend fits a line through samples over time: the one least-squares fit of the
// tool (watch's growth findings and the sparkline arrows of its renderer), with the
// lower-envelope and Mann-Kendall checks that tell steady growth from noise. It depends on
// nothing of ours.
package trend

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Point is one sample of a series: T seconds since the first sample, V the value.
type Point struct{ T, V float64 }

// Trend is a fitted growth: the slope of the series' lower envelope (its troughs), so a GC
// sawtooth over a flat baseline has a slope near zero and a leak under the sawtooth shows.
type Trend struct {
	// Slope is the growth in units per second (least squares over the envelope).
	Slope float64
	// Intercept is the envelope's value at T = 0.
	Intercept float64
	// R2 is the coefficient of determination of the envelope fit (1 = a straight line).
	R2 float64
	// KendallZ is the Mann–Kendall trend statistic of the envelope: above 1.96 the rise is
	// significant at 5%, whatever its shape.
	KendallZ float64
	// Rises is the fraction of envelope steps that went up.
	Rises float64
	// N is the number of points; Span the time they cover.
	N    int
	Span time.Duration
	// Growing is the verdict of DefaultRule: steady growth, not noise, not one step.
	Growing bool
}

// Rule decides when a fitted series is steady growth.
type Rule struct {
	// MinSamples is the fewest points that can show a trend (5).
	MinSamples int
	// MinKendallZ is the Mann–Kendall significance the envelope's rise needs (1.96, 5%).
	MinKendallZ float64
	// MinRises is the fraction of envelope steps that must rise, so a single step (a pool
	// filling once) is not a leak (0.3).
	MinRises float64
	// MinR2 is the envelope fit the slope needs to be trusted (0.6).
	MinR2 float64
}

// DefaultRule returns the documented defaults.
func DefaultRule() Rule {
	return Rule{MinSamples: 5, MinKendallZ: 1.96, MinRises: 0.3, MinR2: 0.6}
}

// envelopeWindows is how many troughs the lower envelope keeps: enough points for a fit,
// few enough that each window spans at least one GC cycle of a sawtooth.
const envelopeWindows = 12

// ErrTooFewPoints is returned for series that cannot show a trend.
var ErrTooFewPoints = errors.New("too few points for a trend")

// Fit fits the lower envelope of points (the minimum of each of up to 12 equal windows)
// by least squares and applies the rule.
func (r Rule) Fit(points []Point) (Trend, error) {
	if len(points) < 3 {
		return Trend{}, fmt.Errorf("%d points: %w", len(points), ErrTooFewPoints)
	}
	for _, p := range points {
		if math.IsNaN(p.T) || math.IsNaN(p.V) || math.IsInf(p.T, 0) || math.IsInf(p.V, 0) {
			return Trend{}, fmt.Errorf("point %v is not a finite number", p)
		}
	}
	span := points[len(points)-1].T - points[0].T
	if span <= 0 {
		return Trend{}, fmt.Errorf("the points span no time: %w", ErrTooFewPoints)
	}
	env := lowerEnvelope(points, envelopeWindows)
	slope, intercept, r2, _ := LeastSquares(env)
	t := Trend{Slope: slope, Intercept: intercept, R2: r2, KendallZ: mannKendallZ(env), N: len(points),
		Span: time.Duration(span * float64(time.Second))}
	rises := 0
	for i := 1; i < len(env); i++ {
		if env[i].V > env[i-1].V {
			rises++
		}
	}
	t.Rises = float64(rises) / float64(len(env)-1)
	t.Growing = len(points) >= r.MinSamples && slope > 0 && t.KendallZ >= r.MinKendallZ && t.Rises >= r.MinRises && r2 >= r.MinR2
	return t, nil
}

// TimeToReach is how long until the trend takes current to limit; false when it does not
// grow or the limit is already reached.
func (t Trend) TimeToReach(limit, current float64) (time.Duration, bool) {
	if t.Slope <= 0 || limit <= current || math.IsNaN(limit) || math.IsInf(limit, 0) {
		return 0, false
	}
	secs := (limit - current) / t.Slope
	if secs > float64(math.MaxInt64/int64(time.Second)) {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

// lowerEnvelope keeps the minimum of each of w equal windows (by index), with its time.
func lowerEnvelope(points []Point, w int) []Point {
	if len(points) <= w {
		return points
	}
	out := make([]Point, 0, w)
	for i := 0; i < w; i++ {
		lo, hi := i*len(points)/w, (i+1)*len(points)/w
		best := points[lo]
		for _, p := range points[lo:hi] {
			if p.V < best.V {
				best = p
			}
		}
		out = append(out, best)
	}
	return out
}

// LeastSquares is the one least-squares line fit, v = slope·t + intercept (the trend rule
// fits the lower envelope with it; the watch frame the recent points). r2 is 1 for a
// constant series. ok is false when the points do not span two distinct times (fewer than
// two points, or all at one T): slope is 0 then and intercept the mean value.
func LeastSquares(ps []Point) (slope, intercept, r2 float64, ok bool) {
	if len(ps) == 0 {
		return 0, 0, 0, false
	}
	n := float64(len(ps))
	var st, sv float64
	for _, p := range ps {
		st += p.T
		sv += p.V
	}
	mt, mv := st/n, sv/n
	var stt, stv, svv float64
	for _, p := range ps {
		dt, dv := p.T-mt, p.V-mv
		stt += dt * dt
		stv += dt * dv
		svv += dv * dv
	}
	if stt == 0 {
		return 0, mv, 0, false
	}
	slope = stv / stt
	intercept = mv - slope*mt
	if svv == 0 {
		return slope, intercept, 1, true
	}
	return slope, intercept, (stv * stv) / (stt * svv), true
}

// mannKendallZ is the normal approximation of the Mann–Kendall S statistic (no tie
// correction: ties make it conservative, which suits a leak detector).
func mannKendallZ(ps []Point) float64 {
	n := len(ps)
	s := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			switch {
			case ps[j].V > ps[i].V:
				s++
			case ps[j].V < ps[i].V:
				s--
			}
		}
	}
	variance := float64(n*(n-1)*(2*n+5)) / 18
	if variance == 0 {
		return 0
	}
	switch {
	case s > 0:
		return float64(s-1) / math.Sqrt(variance)
	case s < 0:
		return float64(s+1) / math.Sqrt(variance)
	}
	return 0
}
