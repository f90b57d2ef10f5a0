package watch

import (
	"io"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/report"
)

// View is how a watch shows each sample.
type View int

const (
	// ViewLive redraws, at each sample, one frame of all the samples so far (a terminal).
	ViewLive View = iota
	// ViewJSONLines prints one JSON line per sample and the summary as JSON.
	ViewJSONLines
	// ViewPlainLines prints one plain line per sample, no cursor codes, and the summary.
	ViewPlainLines
	// ViewSummary prints nothing per sample, the summary only.
	ViewSummary
)

// Options are how one watch runs; cmd sets them from watch's flags.
type Options struct {
	// PID is the process watched.
	PID int
	// Interval is the time between samples; Duration how long to watch (0: until ctx is
	// done or the process exits).
	Interval, Duration time.Duration
	// Attach keeps one inspector session for the whole watch (the V8 heap and the event
	// loop's delay in every sample); Collect are the first snapshot's options.
	Attach  bool
	Collect inspect.Options
	// View is how the samples are shown and Render how the frames and the summary are
	// rendered (format, colour, width). TermWidth, when set, gives the terminal's width
	// before each live frame, so that a resize is followed.
	View      View
	Render    report.Options
	TermWidth func() int
	// Out receives the frames and the summary; Warn the warnings, as they come.
	Out  io.Writer
	Warn func(warnings []string)
	// Now is the clock of the summary.
	Now func() time.Time
}

// Result is what a watch concluded.
type Result struct {
	// Summary is the watch's summary, as printed.
	Summary *model.WatchSummary
	// Left is the attach whose inspector could not be confirmed closed; nil when none.
	Left *model.Attach
}
