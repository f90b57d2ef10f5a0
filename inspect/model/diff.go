package model

import "time"

// Diff compares two snapshots: what was added and removed, and what grew. It is the
// document `nodeinspect diff A B` prints.
type Diff struct {
	Schema  string    `json:"schema"`
	TakenAt time.Time `json:"taken_at"`
	// Before and After identify the two snapshots.
	Before SnapshotRef `json:"before"`
	After  SnapshotRef `json:"after"`
	// SameProcess is true when both snapshots are of one process (pid and start time).
	SameProcess bool `json:"same_process"`
	// IntervalSeconds is After.TakenAt − Before.TakenAt.
	IntervalSeconds float64 `json:"interval_seconds"`
	// ShortInterval is set when the snapshots are less than diff.ShortInterval apart: growth
	// is then reported as absolute changes, without rates or a time to the limit.
	ShortInterval bool `json:"short_interval"`
	// FDs is nil when either snapshot lacks the fd table.
	FDs *FDDiff `json:"fds"`
	// Sockets is nil when either snapshot lacks sockets.
	Sockets *SocketDiff `json:"sockets"`
	// Children is nil when either snapshot lacks the tree.
	Children *ChildrenDiff `json:"children"`
	// Memory is nil when either snapshot lacks memory.
	Memory   *MemoryDiff `json:"memory"`
	Findings []Finding   `json:"findings"`
	Warnings []string    `json:"warnings"`
}

// SnapshotRef names one snapshot of a diff.
type SnapshotRef struct {
	PID        int       `json:"pid"`
	Comm       string    `json:"comm"`
	StartTicks uint64    `json:"start_ticks"`
	TakenAt    time.Time `json:"taken_at"`
}

// Delta is a number before and after. Before or After is nil when not measured, and then
// Change is nil too.
type Delta struct {
	Before *float64 `json:"before"`
	After  *float64 `json:"after"`
	Change *float64 `json:"change"`
}

// FDDiff compares two fd tables.
type FDDiff struct {
	Open   Delta            `json:"open"`
	ByType map[string]Delta `json:"by_type"`
	// Added and Removed group the fds that appeared or went away by type and target (sockets
	// by state and endpoints, since their inode differs each time).
	Added   []FDGroup `json:"added"`
	Removed []FDGroup `json:"removed"`
	// DeletedNew lists the deleted files held in After that were not held, deleted, in
	// Before (matched by fd number and path); nil when either fd list is missing.
	DeletedNew []DeletedFile `json:"deleted_new"`
	// DeletedNewBytes is the disk space they hold (sizes that could not be read count 0).
	DeletedNewBytes int64 `json:"deleted_new_bytes"`
}

// DeletedFile is an fd on a file that was unlinked while open.
type DeletedFile struct {
	FD   int    `json:"fd"`
	Path string `json:"path"`
	// Size is nil when it could not be read.
	Size *int64 `json:"size_bytes"`
}

// FDGroup is a number of fds with the same type and target description.
type FDGroup struct {
	Type   string `json:"type"`
	Target string `json:"target"`
	Count  int    `json:"count"`
	// FDs lists the fd numbers on the side the group is found (After for added).
	FDs []int `json:"fds"`
}

// SocketDiff compares TCP sockets by state and by peer.
type SocketDiff struct {
	ByState map[string]Delta `json:"by_state"`
	ByPeer  []PeerDelta      `json:"by_peer"`
}

// PeerDelta is the change in the TCP sockets of one remote host and state.
type PeerDelta struct {
	Remote string `json:"remote"`
	State  string `json:"state"`
	Before int    `json:"before"`
	After  int    `json:"after"`
	Change int    `json:"change"`
}

// ChildrenDiff lists children that appeared (in After, not in Before) and that went away.
type ChildrenDiff struct {
	Appeared []ChildRef `json:"appeared"`
	Gone     []ChildRef `json:"gone"`
}

// ChildRef is a child process in a diff.
type ChildRef struct {
	PID    int    `json:"pid"`
	Comm   string `json:"comm"`
	State  string `json:"state"`
	Zombie bool   `json:"zombie"`
}

// MemoryDiff compares memory; sizes in bytes.
type MemoryDiff struct {
	RSS      Delta `json:"rss_bytes"`
	PSS      Delta `json:"pss_bytes"`
	Anon     Delta `json:"anon_bytes"`
	HeapUsed Delta `json:"heap_used_bytes"`
}
