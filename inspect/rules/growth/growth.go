// Package growth builds the growth findings of watch and diff: FD_GROWTH,
// CLOSE_WAIT_GROWTH, RSS_GROWTH and HEAP_GROWTH. It owns the one path from a metric that
// rose over a window to a finding: its summary, its evidence and, when a limit is known,
// the time left until it. Watch gives it a trend fitted over its samples (From and To are
// the first and last values, Fit the fit's quality), diff the change between two snapshots
// (Between); each keeps the evidence keys it has always had. Whether a rise is growth worth
// a finding is the caller's decision (watch's fit and minimum rise, diff's thresholds).
package growth

import (
	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// Growth is one metric that rose over a window.
type Growth struct {
	// Code is the finding's code (model.CodeFDGrowth, ...).
	Code model.Code
	// What names the metric in the summary ("Open fds", "RSS").
	What string
	// Unit is what the metric counts: "fds", "sockets" or "bytes".
	Unit string
	// From and To are the metric's first and last values over the window.
	From, To float64
	// Seconds is the window.
	Seconds float64
	// Rate is the growth per second; nil when the window is too short to give one.
	Rate *float64
	// Fit is the trend fitted over a watch's samples; nil for two snapshots.
	Fit *Fit
	// Limit is what the growth runs to, set only when the time left until it is known.
	Limit *Limit
	// Cause, between two snapshots, is said after the numbers in place of the change.
	Cause string
	// Added and Peers, between two snapshots, are what FD_GROWTH (the fds added) and
	// CLOSE_WAIT_GROWTH (the peers whose CLOSE_WAIT sockets grew) list.
	Added []model.FDGroup
	Peers []model.PeerDelta
	// Advice is the finding's advice.
	Advice string
}

// Fit is the quality of a trend fitted over a watch's samples.
type Fit struct {
	// R2 is the fit's coefficient of determination.
	R2 float64
	// Samples is how many samples had the metric.
	Samples int
}

// Limit is what a growth runs to and the time left until it at the growth's rate.
type Limit struct {
	// Value is the limit, in the metric's unit.
	Value float64
	// Name says the limit in the summary ("EMFILE").
	Name string
	// Named puts Name in the evidence too, as limit_name.
	Named bool
	// Seconds is the time left until the limit.
	Seconds float64
}

// Finding is the warning that g is.
func Finding(g Growth) model.Finding {
	return model.Finding{Code: g.Code, Severity: model.SeverityWarning, Summary: summary(g), Evidence: evidenceOf(g), Advice: g.Advice}
}
