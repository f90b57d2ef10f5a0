package model

import "time"

// Sample is one reading of `nodeinspect watch`: only the numbers a trend needs. Piped or
// with --json, watch prints one Sample per line (schema nodeinspect/v1, type "sample").
type Sample struct {
	Schema  string    `json:"schema"`
	Type    string    `json:"type"`
	TakenAt time.Time `json:"taken_at"`
	PID     int       `json:"pid"`
	// Seq counts samples from 0.
	Seq int `json:"seq"`
	// FDsOpen is nil when the fd table could not be read.
	FDsOpen   *int           `json:"fds_open"`
	FDsByType map[string]int `json:"fds_by_type"`
	// OpenFilesSoft is the soft RLIMIT_NOFILE (nil when unlimited or unknown).
	OpenFilesSoft *uint64 `json:"open_files_soft"`
	// SocketsBy counts TCP sockets by state and CloseWait those in CLOSE_WAIT; both nil
	// when the fd table or a socket table could not be read (unknown, not zero).
	SocketsBy map[string]int `json:"sockets_by_state"`
	CloseWait *int           `json:"close_wait"`
	RSSBytes  *uint64        `json:"rss_bytes"`
	// HeapUsedBytes and HeapLimitBytes would come from the inspector; nil until it is asked.
	HeapUsedBytes  *uint64 `json:"heap_used_bytes"`
	HeapLimitBytes *uint64 `json:"heap_limit_bytes"`
	// OldSpaceUsedBytes and OldSpaceLimitBytes are V8's old generation, what runs out
	// (Heap.OldSpaceUsedBytes, Heap.OldSpaceLimitBytes); nil until the inspector is asked.
	OldSpaceUsedBytes  *uint64 `json:"old_space_used_bytes"`
	OldSpaceLimitBytes *uint64 `json:"old_space_limit_bytes"`
	// EventLoopDelay is the delay measured in the process since the previous sample
	// (--attach; nil otherwise, and for the first sample).
	EventLoopDelay *LoopDelay `json:"event_loop_delay,omitempty"`
	Children       *int       `json:"children"`
	Zombies        *int       `json:"zombies"`
}

// WatchSummary is what a watch concludes: the trends and the findings they make.
type WatchSummary struct {
	Schema  string    `json:"schema"`
	Type    string    `json:"type"`
	TakenAt time.Time `json:"taken_at"`
	PID     int       `json:"pid"`
	Samples int       `json:"samples"`
	// Seconds is the time from the first to the last sample.
	Seconds float64 `json:"seconds"`
	// Ended says why the watch stopped: "duration", "interrupted", "exited", "pid reused".
	Ended    string    `json:"ended"`
	Findings []Finding `json:"findings"`
	Warnings []string  `json:"warnings"`
}

// Value returns one metric of the sample: "fds", "close_wait", "established", "rss_bytes",
// "heap_used_bytes", "old_space_used_bytes", "children" or "zombies"; false when it was not
// measured.
func (s *Sample) Value(metric string) (float64, bool) {
	switch metric {
	case "fds":
		return IntValue(s.FDsOpen)
	case "close_wait":
		return IntValue(s.CloseWait)
	case "established":
		return float64(s.SocketsBy["ESTABLISHED"]), s.SocketsBy != nil
	case "rss_bytes":
		return u64Value(s.RSSBytes)
	case "heap_used_bytes":
		return u64Value(s.HeapUsedBytes)
	case "old_space_used_bytes":
		return u64Value(s.OldSpaceUsedBytes)
	case "children":
		return IntValue(s.Children)
	case "zombies":
		return IntValue(s.Zombies)
	}
	return 0, false
}

func IntValue(p *int) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return float64(*p), true
}

func u64Value(p *uint64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return float64(*p), true
}
