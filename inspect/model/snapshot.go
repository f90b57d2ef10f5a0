// Package model is the vocabulary every other package of nodeinspect shares: the Snapshot
// of one process (the contract's JSON document) and its sections, the Finding with its
// typed Code and Severity, the documents of ps, diff, watch, stack, profile and heap, and
// the sentinel errors that decide the exit code. It holds data and the few methods that
// read it; it collects nothing, decides nothing and prints nothing, and it imports nothing
// of ours but its evidence values (model/evidence), so the renderers (report) depend on it
// and never on the collector.
package model

import (
	"sort"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

// Schema is the value of the "schema" key of every JSON document this tool writes.
const Schema = "nodeinspect/v1"

// Snapshot is everything known about one process at one moment. It is the JSON document of
// the contract (schema nodeinspect/v1): a section that was not collected by the command, or
// could not be read, is nil and marshals as null; a section that could not be read also adds
// a sentence to Warnings.
type Snapshot struct {
	Schema   string         `json:"schema"`
	TakenAt  time.Time      `json:"taken_at"`
	Process  *Process       `json:"process"`
	Limits   *Limits        `json:"limits"`
	FDs      *FDTable       `json:"fds"`
	Sockets  *SocketSummary `json:"sockets"`
	Memory   *Memory        `json:"memory"`
	Children []*Child       `json:"children"`
	Orphans  []Orphan       `json:"orphans"`
	// Container is the cgroup the process runs in, with its limits (nil outside one).
	Container *Container `json:"container"`
	// EventLoop is the result of sampling the main thread (nil when --sample 0 or not collected).
	EventLoop *EventLoop `json:"event_loop"`
	// Node is what the process said about itself through its inspector, or what a
	// diagnostic report held (nil without --attach or when the attach did not get an answer).
	Node *NodeInfo `json:"node"`
	// Handles are the libuv handles of the event loop (nil when not known: no --attach, or
	// Node without process.report.excludeNetwork).
	Handles []Handle `json:"handles"`
	// Attach says what --attach did to the target and what it left (nil without --attach).
	Attach *Attach `json:"attach"`
	// Source names where a snapshot that was not read from a live process came from:
	// "report" for `analyze` of a Node.js diagnostic report, with its file in SourceFile.
	Source     string    `json:"source,omitempty"`
	SourceFile string    `json:"source_file,omitempty"`
	Findings   []Finding `json:"findings"`
	Warnings   []string  `json:"warnings"`
}

// Process identifies the target. Fields come from /proc/<pid>/stat, status, cmdline and exe.
type Process struct {
	PID  int `json:"pid"`
	PPID int `json:"ppid"`
	PGID int `json:"pgid"`
	SID  int `json:"sid"`
	// UID is the real user id (first field of the Uid: line of status).
	UID int `json:"uid"`
	// User is the name of UID, or the number as text when it has no name.
	User string `json:"user"`
	// State is the one-letter state from stat (R, S, D, Z, T, t, X, I).
	State string `json:"state"`
	// Comm is the command name from stat (what process.title sets).
	Comm string `json:"comm"`
	// Exe is the target of /proc/<pid>/exe, nil when it could not be read.
	Exe *string `json:"exe"`
	// Cmdline is /proc/<pid>/cmdline split on NUL bytes.
	Cmdline []string `json:"cmdline"`
	// StartedAt is the start time from stat field 22, converted with the boot time.
	StartedAt *time.Time `json:"started_at"`
	// StartTicks is stat field 22 verbatim (clock ticks since boot); with PID it identifies
	// the process across reads, so a reused pid is noticed.
	StartTicks uint64 `json:"start_ticks"`
	// Threads is the number of threads (stat field 20).
	Threads int  `json:"threads"`
	IsNode  bool `json:"is_node"`
	// NodeBy says how IsNode was decided: "exe", "maps" (libnode), "cmdline" (fallback when
	// exe is unreadable) or "" when not Node.
	NodeBy string `json:"node_detected_by,omitempty"`
	// Orphan is true when the process lost its parent and was re-parented.
	Orphan bool `json:"orphan"`
}

// Limits holds the process's RLIMIT_NOFILE from /proc/<pid>/limits. A nil value means
// "unlimited" (the contract's null); a Limits that could not be read at all is a nil *Limits.
type Limits struct {
	OpenFilesSoft *uint64 `json:"open_files_soft"`
	OpenFilesHard *uint64 `json:"open_files_hard"`
}

// FDTable is the process's file descriptor table, from /proc/<pid>/fd.
type FDTable struct {
	// Open is the number of fds read.
	Open int `json:"open"`
	// ByType counts fds by Type.
	ByType map[string]int `json:"by_type"`
	// Deleted counts fds on files that were unlinked while open; nil when the table was not
	// read (counted from the directory's size, or a Node report, which lists no files).
	Deleted *int `json:"deleted"`
	// DeletedBytes is the size held by deleted files (bytes, from stat through the fd); nil
	// with Deleted.
	DeletedBytes *int64 `json:"deleted_bytes"`
	// Vanished counts fds that closed between listing the directory and reading the link.
	Vanished int `json:"vanished"`
	// List has one entry per fd, sorted by fd number (nil when only the count is known).
	List []FD `json:"list"`
	// CountedFrom is "dir_size" when the table itself was unreadable and Open comes from
	// the size of /proc/<pid>/fd (Linux 6.2+); ByType and List are then nil.
	CountedFrom string `json:"counted_from,omitempty"`
}

// FD is one entry of the fd table.
type FD struct {
	FD int `json:"fd"`
	// Type is one of the contract's fd types: file, dir, char, block, fifo, pipe, tcp, udp,
	// unix, netlink, socket, eventfd, epoll, timerfd, signalfd, inotify, anon_inode, unknown.
	Type string `json:"type"`
	// Target is the link text of /proc/<pid>/fd/N, without a trailing " (deleted)" when the
	// file really was deleted. Bytes that are not valid UTF-8 are escaped as \xNN.
	Target  string `json:"target"`
	Deleted bool   `json:"deleted"`
	// Size is the file size in bytes for regular files (nil when not a file or unreadable).
	Size   *int64  `json:"size"`
	Socket *Socket `json:"socket"`
	// Handle is the libuv handle that owns this fd, when attached (nil otherwise).
	Handle *FDHandle `json:"handle,omitempty"`
	// Owner is the JavaScript object that owns this socket, when attached (nil otherwise).
	Owner *SocketOwner `json:"owner,omitempty"`
}

// FDHandle names the libuv handle behind an fd and whether it keeps the event loop alive.
type FDHandle struct {
	Type       string `json:"type"`
	Active     bool   `json:"active"`
	Referenced bool   `json:"referenced"`
	// KeepsAlive is Active && Referenced: libuv's loop runs while such a handle exists.
	KeepsAlive bool `json:"keeps_alive"`
}

// Socket describes a socket fd, joined by inode to the target's net/* tables.
type Socket struct {
	// Proto is tcp, tcp6, udp, udp6, unix or netlink.
	Proto string `json:"proto"`
	// State is the TCP state name of the contract, UNCONN/ESTABLISHED for UDP, and
	// LISTEN/CONNECTED/UNCONNECTED/CONNECTING/DISCONNECTING for unix sockets.
	State string `json:"state"`
	// Local and Remote are "ip:port" ("[ip]:port" for IPv6); for unix sockets Local is the
	// bound path ("@name" for abstract) or "".
	Local   string `json:"local"`
	Remote  string `json:"remote"`
	RxQueue uint64 `json:"rx_queue"`
	TxQueue uint64 `json:"tx_queue"`
	Inode   uint64 `json:"inode"`
}

// SocketSummary counts the process's sockets.
type SocketSummary struct {
	// ByState counts TCP sockets (IPv4 and IPv6) by state.
	ByState map[string]int `json:"by_state"`
	// ByProto counts all sockets by protocol.
	ByProto map[string]int `json:"by_proto"`
	// ByPeer groups TCP connections by state and direction, largest group first, CLOSE_WAIT
	// first of all: inbound connections (accepted by one of the process's listeners) by
	// remote host, outbound ones (opened by the process) by remote host and port.
	ByPeer []PeerGroup `json:"by_peer"`
	// Unmatched counts socket fds whose inode was in none of the net tables read.
	Unmatched int `json:"unmatched"`
}

// PeerGroup is a set of TCP sockets with the same state, direction and remote host (and,
// for outbound connections, remote port).
type PeerGroup struct {
	// Remote is the remote host (address without port).
	Remote string `json:"remote"`
	State  string `json:"state"`
	Count  int    `json:"count"`
	// LocalPorts are the local ports of the group's sockets: the listener's ports for
	// inbound connections, the random ports the process connected from for outbound ones.
	LocalPorts []int `json:"local_ports"`
	// Direction is "inbound" (accepted by a listening socket of the process) or
	// "outbound" (opened by the process).
	Direction string `json:"direction"`
	// RemotePort is the port of the remote end for outbound groups; nil for inbound ones,
	// whose clients connect from ports of their own choosing.
	RemotePort *int `json:"remote_port"`
	// RxQueueBytes and TxQueueBytes sum the group's receive and send queues (bytes
	// waiting to be read by this process, and to be acknowledged by the peer).
	RxQueueBytes uint64 `json:"rx_queue_bytes"`
	TxQueueBytes uint64 `json:"tx_queue_bytes"`
}

// Memory splits the process's memory. Sizes are bytes; nil means it could not be measured.
type Memory struct {
	// RSSBytes is VmRSS from status.
	RSSBytes *uint64 `json:"rss_bytes"`
	// PSSBytes is Pss from smaps_rollup (needs the same privilege as ptrace).
	PSSBytes *uint64 `json:"pss_bytes"`
	// AnonBytes is RssAnon from status.
	AnonBytes *uint64 `json:"anon_bytes"`
	// FileBytes is RssFile from status.
	FileBytes *uint64 `json:"file_bytes"`
	// ShmemBytes is RssShmem from status.
	ShmemBytes *uint64 `json:"shmem_bytes"`
	// SwapBytes is VmSwap from status.
	SwapBytes *uint64 `json:"swap_bytes"`
	// PeakRSSBytes is VmHWM from status.
	PeakRSSBytes *uint64 `json:"peak_rss_bytes"`
	// HostTotalBytes is the host's MemTotal (meminfo), to put RSS in proportion.
	HostTotalBytes *uint64 `json:"host_total_bytes"`
	// Heap is V8's view, only when asked through the inspector or read from a report.
	Heap *Heap `json:"heap"`
}

// Heap is the V8 heap as Node reports it.
type Heap struct {
	UsedBytes         *uint64 `json:"used_bytes"`
	TotalBytes        *uint64 `json:"total_bytes"`
	LimitBytes        *uint64 `json:"limit_bytes"`
	ExternalBytes     *uint64 `json:"external_bytes"`
	ArrayBuffersBytes *uint64 `json:"array_buffers_bytes"`
	// Source is "inspector" or "report".
	Source string `json:"source"`
	// OldSpaceUsedBytes is the size of the objects in V8's old generation (old, code, map,
	// large-object and shared spaces: v8.getHeapSpaceStatistics(), or a report's
	// javascriptHeap.heapSpaces); nil when the spaces are unknown.
	OldSpaceUsedBytes *uint64 `json:"old_space_used_bytes"`
	// OldSpaceLimitBytes is the old generation's limit, the space that runs out when Node.js
	// dies of "JavaScript heap out of memory" (LimitBytes minus the young generation's
	// reserve; see oldSpaceLimit); nil when the heap limit is unknown.
	OldSpaceLimitBytes *uint64 `json:"old_space_limit_bytes"`
	// OldSpaceLimitFrom says how OldSpaceLimitBytes was found: "--max-old-space-size",
	// "heap limit minus 3 × --max-semi-space-size", or "heap limit minus V8's
	// young-generation reserve (estimated)"; nil with it.
	OldSpaceLimitFrom *string `json:"old_space_limit_from"`
}

// DeletedFiles is the count of fds on deleted files and the bytes they hold; ok is false
// when they were not counted.
func (t *FDTable) DeletedFiles() (count int, bytes int64, ok bool) {
	if t == nil || t.Deleted == nil {
		return 0, 0, false
	}
	if t.DeletedBytes != nil {
		bytes = *t.DeletedBytes
	}
	return *t.Deleted, bytes, true
}

// Child is a node of the process tree below the target.
type Child struct {
	PID      int      `json:"pid"`
	PPID     int      `json:"ppid"`
	State    string   `json:"state"`
	Comm     string   `json:"comm"`
	Cmdline  []string `json:"cmdline"`
	Zombie   bool     `json:"zombie"`
	Children []*Child `json:"children"`
}

// Orphan is a process of the target's process group or session that lost its parent.
type Orphan struct {
	PID     int      `json:"pid"`
	PPID    int      `json:"ppid"`
	PGID    int      `json:"pgid"`
	State   string   `json:"state"`
	Comm    string   `json:"comm"`
	Cmdline []string `json:"cmdline"`
}

// EventLoop is what sampling the main thread showed.
type EventLoop struct {
	// WindowMS is the sampling window in milliseconds.
	WindowMS int64 `json:"window_ms"`
	// Samples is how many times the main thread was read.
	Samples int `json:"samples"`
	// InEpoll counts samples that found the thread waiting in epoll (the loop is idle,
	// waiting for events: it turns).
	InEpoll int `json:"in_epoll"`
	// Seen counts samples by what the thread was doing: "epoll", "running", "futex",
	// "read", "syscall:N", "sleeping:<wchan>", "stopped", "zombie"...
	Seen map[string]int `json:"seen"`
	// Source is "syscall" when /proc/<pid>/syscall was readable, "wchan" otherwise.
	Source string `json:"source"`
	// CPUPercent is the main thread's CPU use over the window (utime+stime of task stat).
	CPUPercent *float64 `json:"cpu_percent"`
	// Verdict is "turning" (the loop makes progress), "saturated" (it turns, but the main
	// thread is busy for nearly the whole window), "blocked" (no progress over the window)
	// or "unknown" (it could not be told: no privilege, too few samples).
	Verdict string `json:"verdict"`
	// Reason says in one word what decided the verdict: "idle" (waiting in the loop's
	// epoll), "progress" (system calls over the window), "no_syscalls" (on CPU without
	// any system call), "one_syscall" (in one system call for the whole window),
	// "spawn_sync" (waiting on a synchronous child process's private loop), "stopped",
	// "no_privilege", "no_syscall_file", "too_few_samples", "no_counters", "starved"
	// (runnable but hardly ever on a CPU: an overloaded host).
	Reason string `json:"reason"`
	// BusyPercent is the share of the window the main thread spent on a CPU or runnable
	// waiting for one (task schedstat, nanoseconds; utime+stime in clock ticks, CPU only,
	// where schedstat is missing). Nil when unmeasurable.
	BusyPercent *float64 `json:"busy_percent"`
	// RunqueueWaitPercent is the part of BusyPercent the main thread spent runnable but
	// waiting for a CPU (schedstat): high on a host whose CPUs are contended. Nil when
	// unmeasured.
	RunqueueWaitPercent *float64 `json:"runqueue_wait_percent"`
	// SyscallsPerSecond is the main thread's read- and write-type system calls per second
	// over the window (task io syscr+syscw); nil when unreadable (it needs ptrace access).
	SyscallsPerSecond *float64 `json:"syscalls_per_second"`
	// WaitingFor are the child processes the main thread waits for in a synchronous
	// spawn (execSync, spawnSync, execFileSync); nil otherwise.
	WaitingFor []WaitedChild `json:"waiting_for,omitempty"`
	// BusyFromTicks is true when BusyPercent came from clock ticks (too coarse for a
	// short window to decide saturation).
	BusyFromTicks bool `json:"-"`
	// Stack is the JavaScript stack a loop blocked in JavaScript was found in most often
	// (report --attach: a few pauses of the main thread), innermost frame first; nil when
	// not taken. StackCount of StackSamples pauses found it; BlockedIn says it in words:
	// "renderReport (src/report.js:42), 9 of 10 samples".
	Stack []Frame `json:"stack"`
	// Delay is the event-loop delay and utilization the process measured itself over a
	// window (--attach: perf_hooks.monitorEventLoopDelay and eventLoopUtilization); nil
	// when not measured.
	Delay        *LoopDelay `json:"delay"`
	StackCount   int        `json:"stack_count,omitempty"`
	StackSamples int        `json:"stack_samples,omitempty"`
	BlockedIn    string     `json:"blocked_in,omitempty"`
}

// WaitedChild is a child process a blocked main thread waits for.
type WaitedChild struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
}

// LoopDelay is the event loop's delay as the process measured it: how late a 10 ms timer
// fired (p50, p99, max, in milliseconds) and the fraction of the window the loop was busy
// (utilization, 0 to 1). A value that could not be measured is nil.
type LoopDelay struct {
	P50MS       *float64 `json:"p50_ms"`
	P99MS       *float64 `json:"p99_ms"`
	MaxMS       *float64 `json:"max_ms"`
	Utilization *float64 `json:"utilization"`
	// WindowMS is the measuring window; Count how many delays were recorded (nil when
	// this Node.js does not say).
	WindowMS int64  `json:"window_ms"`
	Count    *int64 `json:"count"`
}

// NodeInfo is what Node.js said about itself (through the inspector, or in a report).
type NodeInfo struct {
	// Version is process.version, e.g. "v20.20.2" ("" when unknown).
	Version string `json:"version"`
	// Listeners is process.listenerCount for SIGTERM, SIGINT, uncaughtException and
	// unhandledRejection (nil when unknown: a report does not hold them).
	Listeners map[string]int `json:"listeners"`
	// ActiveResources counts process.getActiveResourcesInfo() by name: what keeps the event
	// loop alive as JavaScript sees it (TCPServerWrap, Timeout, ...). Nil when unknown.
	ActiveResources map[string]int `json:"active_resources"`
	// Error is the error a report was written for (analyze only).
	Error *NodeError `json:"error,omitempty"`
}

// NodeError is the JavaScript error a diagnostic report was written for.
type NodeError struct {
	Message string   `json:"message"`
	Code    string   `json:"code,omitempty"`
	Stack   []string `json:"stack"`
	// Trigger is the report's header.trigger: "Exception" (an uncaught exception),
	// "FatalError", "OOMError", "API" (process.report.writeReport(err)), "Signal"...
	Trigger string `json:"trigger,omitempty"`
}

// Handle is one libuv handle of the target's event loop (Node's report "libuv" section).
type Handle struct {
	// Type is libuv's name: tcp, udp, pipe, tty, timer, process, signal, fs_event, ...
	Type       string `json:"type"`
	Active     bool   `json:"active"`
	Referenced bool   `json:"referenced"`
	// KeepsAlive is Active && Referenced: the loop will not end while it exists.
	KeepsAlive bool `json:"keeps_alive"`
	// FD is the handle's file descriptor (nil for timers and other fd-less handles).
	FD *int `json:"fd"`
	// Local and Remote are "ip:port" of a socket, or a pipe's path in Local.
	Local  string `json:"local,omitempty"`
	Remote string `json:"remote,omitempty"`
	// Detail is a short description for handles without endpoints (a timer's due time, a
	// child's pid, a signal's name, a watched file).
	Detail string `json:"detail,omitempty"`
}

// Attach records what --attach did. An operator reads it to know what the target saw.
type Attach struct {
	// Status is "ok" (answered, and everything nodeinspect opened is closed), "skipped"
	// (nothing was sent: Reason says why), "failed" (a step failed: Reason), or "timeout"
	// (the process did not answer within the time limit).
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Inspector is the address of the inspector used ("127.0.0.1:9229"), "" when none.
	Inspector string `json:"inspector"`
	// SentSignal is true when nodeinspect sent SIGUSR1 to open the inspector.
	SentSignal bool `json:"sent_signal"`
	// AlreadyOpen is true when the inspector was listening before nodeinspect came.
	AlreadyOpen bool `json:"already_open"`
	// Closed says whether an inspector nodeinspect opened was seen closed again (nil when
	// nodeinspect opened none).
	Closed *bool `json:"closed"`
	// LeftOpen says what is still open and how to close it (empty when nothing is).
	LeftOpen string `json:"left_open,omitempty"`
	// ElapsedMS is the time the attach took, in milliseconds.
	ElapsedMS int64 `json:"elapsed_ms"`
	// Closer is the detached closer nodeinspect started before its signal (nil when it
	// sent none): it closes the inspector if this run cannot.
	Closer *CloserInfo `json:"closer,omitempty"`
}

// Unconfirmed reports whether the attach sent SIGUSR1 and could not confirm that the
// inspector it opened is closed again (exit code 6).
func (a *Attach) Unconfirmed() bool {
	return a != nil && a.SentSignal && (a.Closed == nil || !*a.Closed)
}

// CloserInfo names the closer of an attach.
type CloserInfo struct {
	// PID is the closer's process id.
	PID int `json:"pid"`
	// Until is when it stops waiting for an inspector that has not opened yet.
	Until time.Time `json:"until"`
}

// Severity ranks findings. Its zero value is not valid.
type Severity string

// The severities of the contract, lowest first.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Rank orders severities: info 1, warning 2, critical 3, anything else 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityWarning:
		return 2
	case SeverityCritical:
		return 3
	}
	return 0
}

// Finding is one diagnosis, with the numbers behind it and what to do.
type Finding struct {
	// Code is a stable identifier from the contract, e.g. CLOSE_WAIT_LEAK.
	Code     Code     `json:"code"`
	Severity Severity `json:"severity"`
	// Summary is one human sentence; its text may improve between releases.
	Summary string `json:"summary"`
	// Evidence holds the numbers, fds and pids behind the finding, each with its unit.
	Evidence evidence.Evidence `json:"evidence"`
	// Advice is one line a tired person can act on.
	Advice string `json:"advice"`
	// Related names other findings of this snapshot that explain or are explained by it.
	Related []Code `json:"related,omitempty"`
}

// Directions of a TCP connection.
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// KeysByCount orders the keys of a map of counts largest count first, then by name.
func KeysByCount(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
