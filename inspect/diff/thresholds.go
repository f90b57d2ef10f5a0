package diff

import "time"

// Thresholds decide when a difference is growth worth a finding.
type Thresholds struct {
	// FDs is the net increase of open fds that makes FD_GROWTH (default 10).
	FDs int
	// CloseWait is the net increase of CLOSE_WAIT sockets that makes CLOSE_WAIT_GROWTH (5).
	CloseWait int
	// RSSBytes and RSSFraction: RSS_GROWTH when RSS grew by both (64 MiB and 20%).
	RSSBytes    uint64
	RSSFraction float64
	// HeapBytes and HeapFraction: HEAP_GROWTH when the V8 heap used grew by both (32 MiB, 20%).
	HeapBytes    uint64
	HeapFraction float64
}

// DefaultThresholds returns the default growth thresholds of diff.
func DefaultThresholds() Thresholds {
	return Thresholds{FDs: 10, CloseWait: 5, RSSBytes: 64 << 20, RSSFraction: 0.20, HeapBytes: 32 << 20, HeapFraction: 0.20}
}

// ShortInterval is the least time between two snapshots for diff to give rates and a
// time to the limit. Snapshots taken around a CI step are often seconds apart: a rate per
// hour from a 5-second window multiplies whatever happened in those seconds (a burst of
// requests, one GC cycle, a pool filling up) by 720 and calls it a trend, and a time to
// EMFILE from it is fiction. Under a minute diff says what changed, in absolute numbers;
// watch, which fits many samples, is the tool for rates.
const ShortInterval = time.Minute
