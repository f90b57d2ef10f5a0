package model

import (
	"fmt"
	"time"

	"github.com/nodeinspect/nodeinspect/internal/units"
)

// ProfileDoc is the document of `nodeinspect profile` (the contract's "profile" shape).
type ProfileDoc struct {
	Schema   string         `json:"schema"`
	TakenAt  time.Time      `json:"taken_at"`
	Process  *Process       `json:"process"`
	Attach   *Attach        `json:"attach"`
	Profile  *CPUProfileDoc `json:"profile"`
	File     *string        `json:"file"`
	Warnings []string       `json:"warnings"`
}

// CPUProfileDoc is a CPU profile's summary. Percentages are of the sampled time.
type CPUProfileDoc struct {
	DurationMS  float64           `json:"duration_ms"`
	IntervalUS  float64           `json:"interval_us"`
	Samples     int               `json:"samples"`
	IdlePercent float64           `json:"idle_percent"`
	Top         []ProfileFunction `json:"top"` // by self time
	// Additions to the contract.
	Idle           bool              `json:"idle"` // JavaScript and GC took under 1% of the time
	ProgramPercent float64           `json:"program_percent"`
	GCPercent      float64           `json:"gc_percent"`
	JSPercent      float64           `json:"js_percent"`
	TopTotal       []ProfileFunction `json:"top_total"` // by total time
	HottestStack   []ProfileFrame    `json:"hottest_stack"`
	HottestPercent float64           `json:"hottest_percent"`
	Ended          ProfileEnd        `json:"ended"`
}

// ProfileFunction is one function of a profile: 1-based line, times in milliseconds.
type ProfileFunction struct {
	Function     string  `json:"function"`
	URL          string  `json:"url"`
	Line         int     `json:"line"`
	SelfMS       float64 `json:"self_ms"`
	SelfPercent  float64 `json:"self_percent"`
	TotalMS      float64 `json:"total_ms"`
	TotalPercent float64 `json:"total_percent"`
	SelfSamples  int     `json:"self_samples"`
	TotalSamples int     `json:"total_samples"`
	Mapped       bool    `json:"mapped"` // url and line are the original source's (a source map)
}

// ProfileFrame is one frame of a stack in the contract's frame shape (1-based line and
// column; mapped: url, line and column come from a source map).
type ProfileFrame struct {
	Function string `json:"function"`
	URL      string `json:"url"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Mapped   bool   `json:"mapped"`
}

// HeapDoc is the document of `nodeinspect heap` and of `analyze FILE.heapsnapshot` (the
// contract's "heap" shape).
type HeapDoc struct {
	Schema   string         `json:"schema"`
	TakenAt  time.Time      `json:"taken_at"`
	Process  *Process       `json:"process"`
	Attach   *Attach        `json:"attach"`
	Heap     *HeapReportDoc `json:"heap"`
	File     *string        `json:"file"`
	Warnings []string       `json:"warnings"`
}

// HeapReportDoc is a heap profile's or snapshot's summary.
type HeapReportDoc struct {
	Mode       string    `json:"mode"` // "sampling" or "snapshot"
	TotalBytes uint64    `json:"total_bytes"`
	Top        []HeapRow `json:"top"`
	// Additions to the contract.
	Nodes         *int       `json:"nodes,omitempty"`     // snapshot: objects in the file
	Reachable     *int       `json:"reachable,omitempty"` // snapshot: reachable from the roots
	SnapshotBytes *int64     `json:"snapshot_bytes,omitempty"`
	PauseMS       *int64     `json:"pause_ms,omitempty"` // snapshot: how long the target was paused (the take)
	Headroom      *Headroom  `json:"headroom,omitempty"`
	Ended         ProfileEnd `json:"ended,omitempty"`
}

// HeapRow is one row: a constructor (snapshot) or an allocating function (sampling).
type HeapRow struct {
	Name          string  `json:"name"`
	URL           *string `json:"url"`
	Line          *int    `json:"line"`
	Count         *int    `json:"count"`
	SelfBytes     uint64  `json:"self_bytes"`
	RetainedBytes *uint64 `json:"retained_bytes"`
}

// Headroom is the memory a heap snapshot may use in the target without pushing it (or its
// host) into the OOM killer: V8 builds the snapshot's graph inside the process, which can
// take about as much again as the heap (nodejs/node#50711).
type Headroom struct {
	// RSSBytes is the process's resident memory (VmRSS of /proc/<pid>/status); nil when
	// unreadable.
	RSSBytes *uint64 `json:"rss_bytes"`
	// HeapUsedBytes is V8's heap used, the extra a snapshot may need.
	HeapUsedBytes uint64 `json:"heap_used_bytes"`
	// AvailableBytes is the least of the host's MemAvailable and the memory cgroup's limit
	// minus its usage; Source says which one it is ("host" or "cgroup <path>").
	AvailableBytes uint64 `json:"available_bytes"`
	Source         string `json:"source"`
}

// Fits reports whether the snapshot's extra memory (the heap used) fits in what is
// available.
func (h Headroom) Fits() bool { return h.HeapUsedBytes <= h.AvailableBytes }

// Sentence is the numbers, for the refusal and the warnings.
func (h Headroom) Sentence() string {
	rss := "unknown"
	if h.RSSBytes != nil {
		rss = units.WholeMiB(*h.RSSBytes)
	}
	return fmt.Sprintf("process RSS %s, V8 heap used %s (a snapshot may need as much again), available %s (%s)", rss, units.WholeMiB(h.HeapUsedBytes), units.WholeMiB(h.AvailableBytes), h.Source)
}

// ProfileEnd says why a recording stopped.
type ProfileEnd string

// The ends of a recording.
const (
	EndDuration    ProfileEnd = "duration"    // the requested duration passed
	EndInterrupted ProfileEnd = "interrupted" // Ctrl-C (the context was cancelled)
	EndExiting     ProfileEnd = "exiting"     // the target is exiting and waits for us to leave
	EndGone        ProfileEnd = "gone"        // the target is gone
)
