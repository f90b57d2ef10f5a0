package trend

import (
	"math"
	"math/rand"
	"testing"
	"time"
)

func series(n int, f func(t float64) float64) []Point {
	ps := make([]Point, n)
	for i := range ps {
		ps[i] = Point{T: float64(i), V: f(float64(i))}
	}
	return ps
}

func TestFitTrendSyntheticSeries(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	cases := []struct {
		name    string
		points  []Point
		growing bool
		rate    float64 // expected slope when growing
		tol     float64 // relative tolerance
	}{
		{"flat", series(60, func(float64) float64 { return 100 }), false, 0, 0},
		{"flat with noise", series(60, func(float64) float64 { return 100 + rng.Float64()*4 }), false, 0, 0},
		{"linear", series(60, func(t float64) float64 { return 20 + 12*t }), true, 12, 0.01},
		{"linear with noise", series(120, func(t float64) float64 { return 50 + 3*t + rng.NormFloat64()*5 }), true, 3, 0.10},
		{"sawtooth flat baseline", series(300, func(t float64) float64 { return 1e8 + float64(int(t)%20)*5e6 }), false, 0, 0},
		{"sawtooth rising baseline", series(300, func(t float64) float64 { return 1e8 + 2e5*t + float64(int(t)%20)*5e6 }), true, 2e5, 0.15},
		{"single step", series(60, func(t float64) float64 {
			if t < 30 {
				return 20
			}
			return 80
		}), false, 0, 0},
		{"decreasing", series(60, func(t float64) float64 { return 1000 - 5*t }), false, 0, 0},
		{"huge values", series(30, func(t float64) float64 { return 1e15 + 1e12*t }), true, 1e12, 0.01},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := DefaultRule().Fit(c.points)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Growing != c.growing {
				t.Fatalf("growing %v, want %v (%+v)", tr.Growing, c.growing, tr)
			}
			if c.growing && math.Abs(tr.Slope-c.rate)/c.rate > c.tol {
				t.Errorf("slope %g, want %g ± %.0f%%", tr.Slope, c.rate, c.tol*100)
			}
		})
	}
}

func TestFitTrendRejectsBadInput(t *testing.T) {
	for _, ps := range [][]Point{nil, {{0, 1}, {1, 2}}, {{0, 1}, {0, 2}, {0, 3}}, {{0, 1}, {1, math.NaN()}, {2, 3}}, {{0, 1}, {1, math.Inf(1)}, {2, 3}}} {
		if _, err := DefaultRule().Fit(ps); err == nil {
			t.Errorf("DefaultRule().Fit(%v) must fail", ps)
		}
	}
}

func TestTimeToReach(t *testing.T) {
	tr := Trend{Slope: 12}
	if d, ok := tr.TimeToReach(1024, 304); !ok || d != time.Minute {
		t.Errorf("got %v %v", d, ok)
	}
	if _, ok := tr.TimeToReach(100, 200); ok {
		t.Error("limit already reached")
	}
	if _, ok := (Trend{Slope: 0}).TimeToReach(100, 1); ok {
		t.Error("no growth, no time")
	}
}

func FuzzFitTrend(f *testing.F) {
	f.Add(1.0, 2.0, 3.0, 4.0, 5.0)
	f.Add(0.0, 0.0, 0.0, 1e300, -1e300)
	f.Fuzz(func(t *testing.T, a, b, c, d, e float64) {
		ps := []Point{{0, a}, {1, b}, {2, c}, {3, d}, {4, e}}
		tr, err := DefaultRule().Fit(ps)
		if err != nil {
			return
		}
		if tr.Growing && (math.IsNaN(tr.Slope) || tr.Slope <= 0) {
			t.Fatalf("growing with slope %v", tr.Slope)
		}
	})
}

func TestLeastSquares(t *testing.T) {
	slope, intercept, r2, ok := LeastSquares([]Point{{0, 1}, {1, 3}, {2, 5}})
	if !ok || slope != 2 || intercept != 1 || r2 != 1 {
		t.Errorf("line: %v %v %v %v", slope, intercept, r2, ok)
	}
	for _, ps := range [][]Point{nil, {{1, 5}}, {{1, 5}, {1, 7}}} {
		if slope, _, _, ok := LeastSquares(ps); ok || slope != 0 {
			t.Errorf("LeastSquares(%v) = %v, %v; want no fit", ps, slope, ok)
		}
	}
}
