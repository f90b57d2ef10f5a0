package growth

import (
	"slices"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

func keys(m evidence.Evidence) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// A fitted trend and two snapshots keep their own evidence keys; the time to the limit is
// in both when known.
func TestFindingEvidenceKeys(t *testing.T) {
	rate := 0.5
	fit := Finding(Growth{Code: model.CodeFDGrowth, What: "Open fds", Unit: "fds", From: 10, To: 40, Seconds: 60, Rate: &rate,
		Fit: &Fit{R2: 0.99, Samples: 61}, Limit: &Limit{Value: 1024, Name: "EMFILE", Seconds: 1968}})
	if got := keys(fit.Evidence); !slices.Equal(got, []string{"first", "fit_r2", "last", "limit", "rate_per_hour", "rate_per_second", "samples", "time_to_limit_seconds", "window_seconds"}) {
		t.Errorf("trend keys %q", got)
	}
	if fit.Summary != "Open fds: steady growth, EMFILE in about 33 min at +0.50 fds/s" || fit.Severity != model.SeverityWarning {
		t.Errorf("trend %+v", fit)
	}
	limit := 1024.0
	g := Between(30, 70, 80, true, &limit, "EMFILE")
	g.Code, g.What, g.Unit = model.CodeFDGrowth, "Open fds", "fds"
	between := Finding(g)
	if got := keys(between.Evidence); !slices.Equal(got, []string{"added", "after", "before", "change", "interval_seconds", "limit", "rate_per_hour", "rate_per_second", "time_to_limit_seconds"}) {
		t.Errorf("between keys %q", got)
	}
	if between.Summary != "Open fds grew from 30 to 70 (+40): EMFILE in about 32 min at +0.50 fds/s" || between.Evidence["time_to_limit_seconds"] != evidence.Seconds(1908.0) {
		t.Errorf("between %+v", between)
	}
}

// Without rates (snapshots close together) two snapshots give the numbers only.
func TestBetweenWithoutRates(t *testing.T) {
	limit := 1024.0
	g := Between(100<<20, 200<<20, 5, false, &limit, "EMFILE")
	if g.Rate != nil || g.Limit != nil {
		t.Fatalf("rates from a short interval: %+v", g)
	}
	g.Code, g.What, g.Unit = model.CodeRSSGrowth, "RSS", "bytes"
	f := Finding(g)
	if got := keys(f.Evidence); !slices.Equal(got, []string{"after", "before", "change", "interval_seconds"}) {
		t.Errorf("keys %q", got)
	}
	if f.Summary != "RSS grew by 100 MiB (100%) between the snapshots" {
		t.Errorf("summary %q", f.Summary)
	}
}
