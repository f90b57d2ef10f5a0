package report

import (
	"fmt"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

// Hand-made snapshots for the golden tests: the renderers are tested against the model,
// not against the collector, so every shape the model allows can be drawn.

var (
	takenAt   = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	startedAt = takenAt.Add(-(3*24*time.Hour + 4*time.Hour + 12*time.Minute))
)

func u64(v uint64) *uint64         { return &v }
func i64(v int64) *int64           { return &v }
func intp(v int) *int              { return &v }
func f64(v float64) *float64       { return &v }
func str(v string) *string         { return &v }
func timep(v time.Time) *time.Time { return &v }

const mib = 1 << 20

// healthySnapshot is a server with a handful of keep-alive clients, one worker child and
// the inspector's heap numbers: nothing to report.
func healthySnapshot() *model.Snapshot {
	fds := []model.FD{
		{FD: 0, Type: "char", Target: "/dev/null"},
		{FD: 1, Type: "pipe", Target: "pipe:[40101]"},
		{FD: 2, Type: "pipe", Target: "pipe:[40102]"},
		{FD: 3, Type: "epoll", Target: "anon_inode:[eventpoll]"},
		{FD: 4, Type: "eventfd", Target: "anon_inode:[eventfd]"},
		{FD: 5, Type: "file", Target: "/srv/app/logs/access.log", Size: i64(18 * mib)},
		{FD: 18, Type: "tcp", Target: "socket:[51001]", Socket: &model.Socket{Proto: "tcp", State: "LISTEN", Local: "0.0.0.0:8080", Remote: "0.0.0.0:0", Inode: 51001}},
		{FD: 19, Type: "tcp", Target: "socket:[51002]", Socket: &model.Socket{Proto: "tcp", State: "ESTABLISHED", Local: "10.0.1.5:8080", Remote: "10.0.2.20:51544", Inode: 51002}},
		{FD: 20, Type: "tcp", Target: "socket:[51003]", Socket: &model.Socket{Proto: "tcp", State: "ESTABLISHED", Local: "10.0.1.5:8080", Remote: "10.0.2.21:40012", Inode: 51003}},
		{FD: 21, Type: "tcp", Target: "socket:[51004]", Socket: &model.Socket{Proto: "tcp6", State: "ESTABLISHED", Local: "[::ffff:10.0.1.5]:8080", Remote: "[::ffff:10.0.2.22]:61000", Inode: 51004}},
		{FD: 22, Type: "tcp", Target: "socket:[51005]", Socket: &model.Socket{Proto: "tcp", State: "ESTABLISHED", Local: "10.0.1.5:43120", Remote: "10.0.9.9:5432", Inode: 51005}},
		{FD: 23, Type: "unix", Target: "socket:[51006]", Socket: &model.Socket{Proto: "unix", State: "CONNECTED", Local: "", Remote: "", Inode: 51006}},
	}
	return &model.Snapshot{
		Schema:  model.Schema,
		TakenAt: takenAt,
		Process: &model.Process{
			PID: 4242, PPID: 1, PGID: 4242, SID: 4242, UID: 1000, User: "app", State: "S", Comm: "node",
			Exe: str("/usr/bin/node"), Cmdline: []string{"node", "/srv/app/server.js", "--port", "8080"},
			StartedAt: timep(startedAt), StartTicks: 123456, Threads: 11, IsNode: true, NodeBy: "exe",
		},
		Limits: &model.Limits{OpenFilesSoft: u64(1024), OpenFilesHard: u64(4096)},
		FDs: &model.FDTable{
			Open:   len(fds),
			ByType: map[string]int{"char": 1, "pipe": 2, "epoll": 1, "eventfd": 1, "file": 1, "tcp": 5, "unix": 1},
			List:   fds,
			// The table was read: no deleted file is a count of 0 (a report's is null).
			Deleted: intp(0), DeletedBytes: i64(0),
		},
		Sockets: &model.SocketSummary{
			ByState: map[string]int{"LISTEN": 1, "ESTABLISHED": 4},
			ByProto: map[string]int{"tcp": 4, "tcp6": 1, "unix": 1},
			ByPeer: []model.PeerGroup{
				{Remote: "10.0.2.20", State: "ESTABLISHED", Count: 1, LocalPorts: []int{8080}, Direction: "inbound"},
				{Remote: "10.0.2.21", State: "ESTABLISHED", Count: 1, LocalPorts: []int{8080}, Direction: "inbound"},
				{Remote: "10.0.9.9", State: "ESTABLISHED", Count: 1, LocalPorts: []int{43120}, Direction: "outbound", RemotePort: intp(5432)},
				{Remote: "::ffff:10.0.2.22", State: "ESTABLISHED", Count: 1, LocalPorts: []int{8080}, Direction: "inbound"},
			},
		},
		Memory: &model.Memory{
			RSSBytes: u64(96 * mib), PSSBytes: u64(91 * mib), AnonBytes: u64(70 * mib), FileBytes: u64(26 * mib),
			ShmemBytes: u64(0), SwapBytes: u64(0), PeakRSSBytes: u64(120 * mib),
			Heap: &model.Heap{UsedBytes: u64(38 * mib), TotalBytes: u64(52 * mib), LimitBytes: u64(4144 * mib),
				ExternalBytes: u64(3 * mib), ArrayBuffersBytes: u64(1 * mib), Source: "inspector",
				OldSpaceUsedBytes: u64(30 * mib), OldSpaceLimitBytes: u64(4096 * mib), OldSpaceLimitFrom: str("heap limit minus V8's young-generation reserve (estimated)")},
		},
		Children: []*model.Child{
			{PID: 4250, PPID: 4242, State: "S", Comm: "node", Cmdline: []string{"/usr/bin/node", "/srv/app/worker.js", "--id", "1"}, Children: []*model.Child{}},
		},
		Orphans:   []model.Orphan{},
		EventLoop: &model.EventLoop{WindowMS: 2000, Samples: 20, InEpoll: 19, Seen: map[string]int{"epoll": 19, "running": 1}, Source: "syscall", CPUPercent: f64(1.5), Verdict: "turning", Reason: "idle", BusyPercent: f64(1.4), SyscallsPerSecond: f64(40)},
		Findings:  []model.Finding{},
		Warnings:  []string{},
	}
}

// sickSnapshot has every kind of finding, in the shapes the rules build (Go ints, slices of
// maps, nil for unknown), worst first as Evaluate sorts them.
func sickSnapshot() *model.Snapshot {
	var fds []model.FD
	add := func(fd model.FD) { fds = append(fds, fd) }
	add(model.FD{FD: 0, Type: "char", Target: "/dev/null"})
	add(model.FD{FD: 1, Type: "file", Target: "/var/log/app/out.log", Deleted: true, Size: i64(2400 * mib)})
	add(model.FD{FD: 2, Type: "file", Target: "/var/log/app/err.log", Size: i64(12 * 1024)})
	add(model.FD{FD: 3, Type: "epoll", Target: "anon_inode:[eventpoll]"})
	add(model.FD{FD: 4, Type: "file", Target: "/tmp/upload-7f3a.tmp", Deleted: true, Size: i64(310 * mib)})
	add(model.FD{FD: 5, Type: "tcp", Target: "socket:[70001]", Socket: &model.Socket{Proto: "tcp", State: "LISTEN", Local: "0.0.0.0:8080", Remote: "0.0.0.0:0", RxQueue: 128, Inode: 70001}})
	add(model.FD{FD: 6, Type: "tcp", Target: "socket:[70002]", Socket: &model.Socket{Proto: "tcp", State: "LISTEN", Local: "0.0.0.0:9229", Remote: "0.0.0.0:0", Inode: 70002}})
	add(model.FD{FD: 7, Type: "tcp", Target: "socket:[70003]", Socket: &model.Socket{Proto: "tcp", State: "LISTEN", Local: "127.0.0.1:9230", Remote: "0.0.0.0:0", Inode: 70003}})
	for i := 0; i < 100; i++ {
		ino := uint64(71000 + i)
		add(model.FD{FD: 10 + i, Type: "tcp", Target: fmt.Sprintf("socket:[%d]", ino), Socket: &model.Socket{
			Proto: "tcp", State: "CLOSE_WAIT", Local: fmt.Sprintf("10.0.1.5:%d", 40000+i), Remote: "10.0.9.9:5432", RxQueue: 1, Inode: ino}})
	}
	for i := 0; i < 20; i++ {
		ino := uint64(72000 + i)
		add(model.FD{FD: 110 + i, Type: "tcp", Target: fmt.Sprintf("socket:[%d]", ino), Socket: &model.Socket{
			Proto: "tcp", State: "CLOSE_WAIT", Local: "10.0.1.5:8080", Remote: fmt.Sprintf("10.0.3.8:%d", 50000+i*7), Inode: ino}})
	}
	for i := 0; i < 16; i++ {
		ino := uint64(73000 + i)
		add(model.FD{FD: 130 + i, Type: "tcp", Target: fmt.Sprintf("socket:[%d]", ino), Socket: &model.Socket{
			Proto: "tcp", State: "ESTABLISHED", Local: "10.0.1.5:8080", Remote: fmt.Sprintf("10.0.2.%d:%d", 20+i%4, 51000+i), TxQueue: uint64(i * 100), Inode: ino}})
	}
	add(model.FD{FD: 146, Type: "pipe", Target: "pipe:[74001]"})
	add(model.FD{FD: 147, Type: "file", Target: "/memfd:v8-code", Deleted: true, Size: i64(4 * mib)})
	cpu := 99.2
	return &model.Snapshot{
		Schema:  model.Schema,
		TakenAt: takenAt,
		Process: &model.Process{
			PID: 31337, PPID: 1, PGID: 31300, SID: 31300, UID: 1001, User: "svc-api", State: "R", Comm: "node",
			Exe: str("/usr/local/bin/node"), Cmdline: []string{"node", "--inspect=0.0.0.0:9229", "dist/api.js"},
			StartedAt: timep(startedAt), StartTicks: 987654, Threads: 7, IsNode: true, NodeBy: "exe", Orphan: true,
		},
		Limits: &model.Limits{OpenFilesSoft: u64(150), OpenFilesHard: u64(4096)},
		FDs: &model.FDTable{
			Open:         len(fds),
			ByType:       map[string]int{"char": 1, "file": 4, "epoll": 1, "tcp": 139, "pipe": 1},
			Deleted:      intp(2),
			DeletedBytes: i64(2710 * mib),
			List:         fds,
		},
		Sockets: &model.SocketSummary{
			ByState: map[string]int{"CLOSE_WAIT": 120, "ESTABLISHED": 16, "LISTEN": 3},
			ByProto: map[string]int{"tcp": 139},
			ByPeer: []model.PeerGroup{
				{Remote: "10.0.9.9", State: "CLOSE_WAIT", Count: 100, LocalPorts: seq(40000, 100), Direction: "outbound", RemotePort: intp(5432)},
				{Remote: "10.0.3.8", State: "CLOSE_WAIT", Count: 20, LocalPorts: []int{8080}, Direction: "inbound"},
				{Remote: "10.0.2.20", State: "ESTABLISHED", Count: 4, LocalPorts: []int{8080}, Direction: "inbound"},
				{Remote: "10.0.2.21", State: "ESTABLISHED", Count: 4, LocalPorts: []int{8080}, Direction: "inbound"},
				{Remote: "10.0.2.22", State: "ESTABLISHED", Count: 4, LocalPorts: []int{8080}, Direction: "inbound"},
				{Remote: "10.0.2.23", State: "ESTABLISHED", Count: 4, LocalPorts: []int{8080}, Direction: "inbound"},
			},
		},
		Memory: &model.Memory{
			RSSBytes: u64(3900 * mib), PSSBytes: u64(3850 * mib), AnonBytes: u64(3800 * mib), FileBytes: u64(100 * mib),
			ShmemBytes: u64(0), SwapBytes: u64(512 * mib), PeakRSSBytes: u64(4000 * mib),
			Heap: &model.Heap{UsedBytes: u64(2000 * mib), TotalBytes: u64(2048 * mib), LimitBytes: u64(2096 * mib),
				ExternalBytes: u64(1500 * mib), ArrayBuffersBytes: u64(1400 * mib), Source: "inspector",
				OldSpaceUsedBytes: u64(1990 * mib), OldSpaceLimitBytes: u64(2048 * mib), OldSpaceLimitFrom: str("--max-old-space-size")},
		},
		Children: []*model.Child{
			{PID: 31340, PPID: 31337, State: "Z", Comm: "convert", Cmdline: []string{}, Zombie: true, Children: []*model.Child{}},
			{PID: 31341, PPID: 31337, State: "Z", Comm: "convert", Cmdline: []string{}, Zombie: true, Children: []*model.Child{}},
			{PID: 31342, PPID: 31337, State: "S", Comm: "sh", Cmdline: []string{"/bin/sh", "-c", "ffmpeg -i in.mp4 out.webm"}, Children: []*model.Child{
				{PID: 31343, PPID: 31342, State: "R", Comm: "ffmpeg", Cmdline: []string{"ffmpeg", "-i", "in.mp4", "out.webm"}, Children: []*model.Child{}},
			}},
		},
		Orphans: []model.Orphan{
			{PID: 31301, PPID: 1, PGID: 31300, State: "S", Comm: "node", Cmdline: []string{"node", "dist/old-worker.js"}},
		},
		EventLoop: &model.EventLoop{WindowMS: 2000, Samples: 20, InEpoll: 0, Seen: map[string]int{"running": 20}, Source: "syscall", CPUPercent: &cpu, Verdict: "blocked", Reason: "no_syscalls", BusyPercent: f64(99.1), SyscallsPerSecond: f64(0)},
		Findings: []model.Finding{
			{Code: "EMFILE_RISK", Severity: model.SeverityCritical,
				Summary:  "146 of 150 file descriptors in use (97% of the soft limit, mostly tcp): new sockets and files will soon fail with EMFILE (the CLOSE_WAIT sockets are fds that count against the limit)",
				Evidence: evidence.Evidence{"open": evidence.Count(146), "soft_limit": evidence.Count(uint64(150)), "hard_limit": evidence.Count(uint64(4096)), "percent": evidence.Percent(97.3), "by_type": evidence.CountsBy(map[string]int{"char": 1, "file": 4, "epoll": 1, "tcp": 139, "pipe": 1})},
				Advice:   "Find what accumulates before raising the limit (most fds are tcp: see `nodeinspect fds 31337`); `ulimit -n` or systemd LimitNOFILE= only buys time.",
				Related:  []model.Code{"CLOSE_WAIT_LEAK"}},
			{Code: "CLOSE_WAIT_LEAK", Severity: model.SeverityCritical,
				Summary: "120 TCP sockets in CLOSE_WAIT: the peer closed them and this process never did (most: 100 outbound to 10.0.9.9:5432)",
				Evidence: evidence.Evidence{"count": evidence.Count(120), "groups_total": evidence.Count(2), "fds": evidence.FDs(seq(10, 20)), "fds_total": evidence.Count(120), "truncated": evidence.Flag(true), "groups": evidence.Objects([]evidence.Evidence{
					{"peer": evidence.Text("10.0.9.9"), "direction": evidence.Text("outbound"), "local_port": evidence.Null(), "remote_port": evidence.Int(5432), "count": evidence.Count(100)},
					{"peer": evidence.Text("10.0.3.8"), "direction": evidence.Text("inbound"), "local_port": evidence.Int(8080), "remote_port": evidence.Null(), "count": evidence.Count(20)},
				})},
				Advice:  "The code never calls socket.end()/destroy() after the peer's FIN: check 'end' and error paths, servers created with allowHalfOpen: true, and HTTP responses that are never consumed or destroyed.",
				Related: []model.Code{"EMFILE_RISK"}},
			{Code: "HEAP_NEAR_LIMIT", Severity: model.SeverityCritical,
				Summary:  "The V8 heap uses 2000 MiB of its 2096 MiB limit (95%): the process will crash with 'JavaScript heap out of memory'",
				Evidence: evidence.Evidence{"used_bytes": evidence.Bytes(uint64(2000 * mib)), "limit_bytes": evidence.Bytes(uint64(2096 * mib)), "percent": evidence.Percent(95.4)},
				Advice:   "Take a heap snapshot before it dies (--heapsnapshot-near-heap-limit=1) and look for what grows; raising --max-old-space-size only delays it."},
			{Code: "INSPECTOR_EXPOSED", Severity: model.SeverityCritical,
				Summary:  "The Node.js inspector listens on 0.0.0.0:9229, reachable from the network: anyone who can connect can run code in this process",
				Evidence: evidence.Evidence{"fd": evidence.Int(6), "local": evidence.Text("0.0.0.0:9229"), "port": evidence.Int(9229)},
				Advice:   "Restart without --inspect (or bind it to 127.0.0.1 and use an SSH tunnel), and firewall the port now."},
			{Code: "DELETED_FILES_HELD", Severity: model.SeverityWarning,
				Summary: "2 deleted files are still open, holding 2.6 GiB of disk space that df counts and du cannot find",
				Evidence: evidence.Evidence{"count": evidence.Count(2), "bytes": evidence.Bytes(int64(2710 * mib)), "files": evidence.Objects([]evidence.Evidence{
					{"fd": evidence.Int(1), "path": evidence.Text("/var/log/app/out.log"), "size_bytes": evidence.Bytes(int64(2400 * mib))},
					{"fd": evidence.Int(4), "path": evidence.Text("/tmp/upload-7f3a.tmp"), "size_bytes": evidence.Bytes(int64(310 * mib))},
				})},
				Advice: "Close these fds (a log rotated or a temp file unlinked while open keeps its space until closed): reopen log files on rotation, close streams on every path; restarting the process frees the space now."},
			{Code: "EVENT_LOOP_BLOCKED", Severity: model.SeverityWarning,
				Summary:  "The event loop did not turn for 2000 ms: the main thread was never seen waiting for events; it was running on the CPU (20 of 20 samples)",
				Evidence: evidence.Evidence{"window_ms": evidence.Millis(int64(2000)), "samples": evidence.Count(20), "in_epoll": evidence.Count(0), "seen": evidence.CountsBy(map[string]int{"running": 20}), "source": evidence.Text("syscall"), "main_thread": evidence.Text("running"), "cpu_percent": evidence.Percent(99.2)},
				Advice:   "A synchronous task holds the main thread (a hot loop, JSON.parse/stringify of a huge value, sync crypto or zlib, a catastrophic regex): take a CPU profile (`perf top -p <pid>`, or `node --cpu-prof` in a reproduction) and move the work to a worker thread.",
				Related:  []model.Code{"ZOMBIE_CHILDREN", "LISTEN_BACKLOG"}},
			{Code: "EXTERNAL_MEMORY", Severity: model.SeverityWarning,
				Summary:  "RSS is 3.8 GiB but the V8 heap only 2.0 GiB: 1.8 GiB lives outside the JS heap (buffers, native addons)",
				Evidence: evidence.Evidence{"rss_bytes": evidence.Bytes(uint64(3900 * mib)), "heap_total_bytes": evidence.Bytes(uint64(2048 * mib)), "external_bytes": evidence.Bytes(uint64(1500 * mib))},
				Advice:   "Look for Buffers kept alive (caches, streams never consumed) and native addons; compare external and arrayBuffers in process.memoryUsage() over time."},
			{Code: "FD_GROWTH", Severity: model.SeverityWarning,
				Summary:  "Open fds grow by 12 per minute: the limit is reached in about 10 seconds",
				Evidence: evidence.Evidence{"rate_per_minute": evidence.Rate(12.0, "minute"), "time_to_limit_ms": evidence.Millis(int64(10000)), "samples": evidence.Counts([]int{110, 122, 134, 146})},
				Advice:   "Something opens fds and never closes them: compare two `nodeinspect fds` listings to see which type grows."},
			{Code: "LISTEN_BACKLOG", Severity: model.SeverityWarning,
				Summary: "128 connections wait in the accept queue of 1 listening sockets and nobody accepts them (the event loop is not turning, so nothing accepts the waiting connections)",
				Evidence: evidence.Evidence{"listeners": evidence.Objects([]evidence.Evidence{
					{"fd": evidence.Int(5), "local": evidence.Text("0.0.0.0:8080"), "queued": evidence.Count(uint64(128)), "queued_after_window": evidence.Count(uint64(128)), "backlog": evidence.Null()},
				})},
				Advice: "The server is not calling accept: its event loop is blocked or the server was paused; clients see connect succeed and then hang. Unblock the loop, or shed load in front of it."},
			{Code: "ORPHAN_PROCESS", Severity: model.SeverityWarning,
				Summary:  "This process lost its parent and was re-parented to pid 1; it still runs in the dead parent's process group 31300",
				Evidence: evidence.Evidence{"pid": evidence.Int(31337), "ppid": evidence.Int(1), "pgid": evidence.Int(31300), "sid": evidence.Int(31300)},
				Advice:   "Its parent died (often by SIGKILL, which no handler sees) and left it running with its ports and memory: if it is stale, `kill 31337`; make parents forward SIGTERM to their children and kill them on exit."},
			{Code: "ORPHAN_PROCESS", Severity: model.SeverityWarning,
				Summary:  "1 processes of this process group or session lost their parent and were re-parented",
				Evidence: evidence.Evidence{"count": evidence.Count(1), "pids": evidence.PIDs([]int{31301})},
				Advice:   "These are left over from a parent that died without stopping them: check whether they are stale (`nodeinspect tree`), kill them by pid, and make parents stop their children on exit."},
			{Code: "ZOMBIE_CHILDREN", Severity: model.SeverityWarning,
				Summary:  "2 child processes exited and were never reaped (zombies) (the event loop is not turning, so libuv never reaps the exited children)",
				Evidence: evidence.Evidence{"count": evidence.Count(2), "pids": evidence.PIDs([]int{31340, 31341})},
				Advice:   "Node reaps children on its event loop: if the loop is blocked, unblock it; children forked outside libuv (native addons) must be waited for by that code. Zombies vanish when the parent reaps them or exits.",
				Related:  []model.Code{"EVENT_LOOP_BLOCKED"}},
			{Code: "INSPECTOR_OPEN", Severity: model.SeverityInfo,
				Summary:  "The Node.js inspector listens on 127.0.0.1:9230 (loopback only)",
				Evidence: evidence.Evidence{"fd": evidence.Int(7), "local": evidence.Text("127.0.0.1:9230"), "port": evidence.Int(9230)},
				Advice:   "Anyone who can log in to this host can run code in this process through it; turn it off in production (drop --inspect) unless you are debugging now."},
			{Code: "NO_ERROR_HANDLERS", Severity: model.SeverityInfo,
				Summary:  "No uncaughtException or unhandledRejection listener",
				Evidence: evidence.Evidence{"uncaughtException": evidence.Count(0), "unhandledRejection": evidence.Count(0)},
				Advice:   "Add a last-resort handler that logs and exits, so a crash leaves a trace."},
			{Code: "NO_SIGTERM_HANDLER", Severity: model.SeverityInfo,
				Summary:  "No SIGTERM listener: a kill or a pod shutdown drops in-flight work",
				Evidence: evidence.Evidence{"listeners": evidence.Count(0)},
				Advice:   "Handle SIGTERM: stop accepting, finish in-flight requests, then exit."},
			{Code: "REFERENCED_HANDLES", Severity: model.SeverityInfo,
				Summary:  "139 referenced handles keep the event loop alive",
				Evidence: evidence.Evidence{"by_type": evidence.CountsBy(map[string]int{"tcp": 136, "timer": 2, "pipe": 1})},
				Advice:   "Nothing to do unless the process should be exiting."},
		},
		Warnings: []string{"event loop: main thread sampled from wchan (syscall unreadable)"},
	}
}

// degradedSnapshot is what an unprivileged user gets: sections unreadable (nil), memory with
// unknown values, findings left nil by the model, and warnings that say why.
func degradedSnapshot() *model.Snapshot {
	return &model.Snapshot{
		Schema:  model.Schema,
		TakenAt: takenAt,
		Process: &model.Process{
			PID: 777, PPID: 700, PGID: 700, SID: 700, UID: 1002, User: "", State: "S", Comm: "node",
			Cmdline: nil, StartTicks: 42, Threads: 0, IsNode: true, NodeBy: "cmdline",
		},
		Memory: &model.Memory{RSSBytes: u64(210 * mib), AnonBytes: u64(150 * mib), FileBytes: u64(60 * mib), PeakRSSBytes: u64(250 * mib)},
		Warnings: []string{
			"start time unknown: read /proc/stat: permission denied",
			"fd table unreadable: open /proc/777/fd: permission denied; run as the process's user (sudo -u <user> nodeinspect ...) or with sudo to see fds and sockets",
			"memory: PSS unknown, smaps_rollup needs the process's user or root: open /proc/777/smaps_rollup: permission denied",
		},
	}
}

// hostileSnapshot carries names made to break a renderer: a comm that fools a naive stat
// parser, newlines, invalid UTF-8, escape sequences, bidi overrides and Markdown syntax.
func hostileSnapshot() *model.Snapshot {
	s := healthySnapshot()
	s.Process.Comm = "x) Z 1 (y"
	s.Process.User = "ev\x1b[31mil"
	s.Process.Cmdline = []string{"node", "-e", "require('x')\nprocess.title='x) Z 1 (y'", "--\xff\xfe", "| **bold** <img src=x> `tick`"}
	s.FDs.List = append(s.FDs.List,
		model.FD{FD: 30, Type: "file", Target: "/tmp/evil\nname.txt", Size: i64(10)},
		model.FD{FD: 31, Type: "file", Target: "/tmp/bad-\xff\xfe-utf8", Deleted: true, Size: i64(2048)},
		model.FD{FD: 32, Type: "file", Target: "/tmp/\x1b[2J\x1b[31mclear", Size: i64(0)},
		model.FD{FD: 33, Type: "file", Target: "/tmp/\u202egnp.exe", Size: nil},
		model.FD{FD: 34, Type: "file", Target: "/tmp/tab\there | pipe *star* _u_ [l](http://x) <b>", Size: i64(1)},
		model.FD{FD: 35, Type: "unix", Target: "socket:[61000]", Socket: &model.Socket{Proto: "unix", State: "LISTEN", Local: "@abstract\nname", Inode: 61000}},
	)
	s.FDs.Open = len(s.FDs.List)
	s.FDs.ByType["file"] += 5
	s.FDs.ByType["unix"]++
	s.FDs.Deleted = intp(1)
	s.FDs.DeletedBytes = i64(2048)
	s.Children = []*model.Child{
		{PID: 5000, PPID: 4242, State: "S", Comm: "tab\tcomm", Cmdline: []string{"sh", "-c", "echo hi\n; rm -rf /"}, Children: []*model.Child{
			{PID: 5001, PPID: 5000, State: "Z", Comm: "a) R 9 (b", Zombie: true},
		}},
	}
	s.Orphans = []model.Orphan{{PID: 5100, PPID: 1, PGID: 4242, State: "S", Comm: "\xff\xfe", Cmdline: []string{"\x07bell"}}}
	s.Findings = []model.Finding{
		{Code: "DELETED_FILES_HELD", Severity: model.SeverityWarning,
			Summary:  "1 deleted files are still open, holding 2.0 KiB of disk space\nthat df counts | and du cannot find",
			Evidence: evidence.Evidence{"count": evidence.Count(1), "bytes": evidence.Bytes(int64(2048)), "files": evidence.Objects([]evidence.Evidence{{"fd": evidence.Int(31), "path": evidence.Text("/tmp/bad-\xff\xfe-utf8"), "size_bytes": evidence.Bytes(int64(2048))}}), "note\nkey": evidence.Text("a\x1b[31mb")},
			Advice:   "Close them <script>alert(1)</script> **now**"},
	}
	s.Warnings = []string{"a warning\nwith a second line \x1b[31m"}
	return s
}

// psResult is `nodeinspect ps` on a host with a sick, a zombie-leaking, an unreadable and
// a healthy process, worst first.
func psResult() *model.PSResult {
	return &model.PSResult{
		Schema:  model.Schema,
		TakenAt: takenAt,
		Processes: []model.PSRow{
			{PID: 31337, PPID: 1, User: "svc-api", StartedAt: timep(startedAt), UptimeSeconds: f64(274320), RSSBytes: u64(3900 * mib),
				FDsOpen: intp(146), OpenFilesSoft: u64(150), CloseWait: intp(120), Zombies: 2, Orphan: true, Loop: strp("blocked"),
				Flags: []model.Code{"CLOSE_WAIT_LEAK", "EMFILE_RISK", "ORPHAN_PROCESS", "ZOMBIE_CHILDREN"}, Severity: model.SeverityCritical,
				Cmdline: []string{"node", "--inspect=0.0.0.0:9229", "dist/api.js"},
				Findings: []model.Finding{
					{Code: "CLOSE_WAIT_LEAK", Severity: model.SeverityCritical},
					{Code: "EMFILE_RISK", Severity: model.SeverityCritical},
					{Code: "ORPHAN_PROCESS", Severity: model.SeverityWarning},
					{Code: "ZOMBIE_CHILDREN", Severity: model.SeverityWarning},
				}},
			{PID: 4500, PPID: 4400, User: "build", UptimeSeconds: f64(754), RSSBytes: u64(180 * mib),
				FDsOpen: intp(40), OpenFilesSoft: u64(1024), CloseWait: intp(0), Zombies: 3, Loop: strp("saturated"),
				Flags: []model.Code{"ZOMBIE_CHILDREN"}, Severity: model.SeverityWarning,
				Cmdline:  []string{"node", "scripts/build.js", "--watch"},
				Findings: []model.Finding{{Code: "ZOMBIE_CHILDREN", Severity: model.SeverityWarning}}},
			{PID: 900, PPID: 1, User: "root", UptimeSeconds: f64(1234567), RSSBytes: u64(70 * mib),
				FDsOpen: nil, OpenFilesSoft: u64(1048576), CloseWait: nil, Loop: strp("unknown"),
				Cmdline: []string{"/usr/bin/node", "/opt/agent/index.js"}},
			{PID: 4242, PPID: 1, User: "app", UptimeSeconds: f64(59.5), RSSBytes: u64(96 * mib),
				FDsOpen: intp(12), OpenFilesSoft: nil, CloseWait: intp(0),
				Cmdline: []string{"node", "/srv/app/server.js", "--title", "x) Z 1 (y\n"}},
		},
		Warnings: []string{"3 processes of other users: fds and sockets unreadable (run with sudo)"},
	}
}

func strp(s string) *string { return &s }

func seq(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

// attachedSnapshot is the healthy server read with --attach: Node's own view, its libuv
// handles joined to the fd table, and an attach that left the inspector open (a stalled loop).
func attachedSnapshot() *model.Snapshot {
	s := healthySnapshot()
	fd := func(n int) *int { return &n }
	s.Node = &model.NodeInfo{Version: "v20.20.2",
		Listeners:       map[string]int{"SIGTERM": 0, "SIGINT": 1, "uncaughtException": 0, "unhandledRejection": 1},
		ActiveResources: map[string]int{"TCPServerWrap": 1, "TCPSocketWrap": 4, "Timeout": 2}}
	s.Handles = []model.Handle{
		{Type: "async", Active: true},
		{Type: "timer", Active: true, Referenced: true, KeepsAlive: true, Detail: "fires in 96 ms"},
		{Type: "tcp", Active: true, Referenced: true, KeepsAlive: true, FD: fd(18), Local: "0.0.0.0:8080"},
		{Type: "tcp", Active: true, Referenced: true, KeepsAlive: true, FD: fd(19), Local: "10.0.1.5:8080", Remote: "10.0.2.20:51544"},
		{Type: "tcp", Active: false, Referenced: true, FD: fd(20), Local: "10.0.1.5:8080", Remote: "10.0.2.21:40012"},
		{Type: "tcp", Active: true, Referenced: false, FD: fd(22), Local: "10.0.1.5:43120", Remote: "10.0.9.9:5432"},
	}
	for i := range s.FDs.List {
		for _, h := range s.Handles {
			if h.FD != nil && *h.FD == s.FDs.List[i].FD {
				s.FDs.List[i].Handle = &model.FDHandle{Type: h.Type, Active: h.Active, Referenced: h.Referenced, KeepsAlive: h.KeepsAlive}
			}
		}
	}
	closed := false
	s.Attach = &model.Attach{Status: "timeout", Reason: "no answer within 3s while trying to ask the process: the event loop may have stalled after the attach began",
		Inspector: "127.0.0.1:9229", SentSignal: true, Closed: &closed, ElapsedMS: 4012,
		LeftOpen: "the inspector nodeinspect opened on 127.0.0.1:9229 (socket inode 77001) is still listening: its close is queued and runs as soon as the event loop turns again"}
	s.Findings = []model.Finding{
		{Code: "NO_ERROR_HANDLERS", Severity: model.SeverityInfo, Summary: "No uncaughtException listener: an unexpected error ends the process with only Node's default stack trace",
			Evidence: evidence.Evidence{"missing": evidence.Texts([]string{"uncaughtException"})}, Advice: "Add handlers that log and exit non-zero."},
		{Code: "NO_SIGTERM_HANDLER", Severity: model.SeverityInfo, Summary: "No SIGTERM listener: `kill`, systemd and Kubernetes stop this process mid-request",
			Evidence: evidence.Evidence{"SIGTERM": evidence.Count(0), "SIGINT": evidence.Count(1)}, Advice: "Close the server on SIGTERM."},
		{Code: "REFERENCED_HANDLES", Severity: model.SeverityInfo, Summary: "The event loop is kept alive by 2 tcp, 1 timer: the process will not exit on its own while they stay",
			Evidence: evidence.Evidence{"count": evidence.Count(3), "by_type": evidence.CountsBy(map[string]int{"tcp": 2, "timer": 1}),
				"handles": evidence.Objects([]evidence.Evidence{{"type": evidence.Text("timer"), "detail": evidence.Text("fires in 96 ms")}, {"type": evidence.Text("tcp"), "fd": evidence.Int(18), "local": evidence.Text("0.0.0.0:8080")}})},
			Advice: "Close servers, end sockets, clear timers; unref what should not keep the process alive."},
	}
	s.Warnings = []string{"attach: " + s.Attach.LeftOpen}
	return s
}

// crashReportSnapshot is what analyze makes of a Node.js diagnostic report of a crash.
func crashReportSnapshot() *model.Snapshot {
	fd := func(n int) *int { return &n }
	handles := []model.Handle{
		{Type: "tcp", Active: true, Referenced: true, KeepsAlive: true, FD: fd(19), Local: "127.0.0.1:41085"},
		{Type: "timer", Active: true, Referenced: true, KeepsAlive: true, Detail: "fires in 59980 ms"},
	}
	return &model.Snapshot{
		Schema: model.Schema, TakenAt: takenAt, Source: "report", SourceFile: "/var/log/app/report.20261122.json",
		Process: &model.Process{PID: 26150, Comm: "node", Cmdline: []string{"node", "/srv/app/server.js"}, UID: -1, IsNode: true, NodeBy: "report"},
		Limits:  &model.Limits{OpenFilesSoft: u64(1024), OpenFilesHard: u64(4096)},
		FDs: &model.FDTable{Open: 1, ByType: map[string]int{"tcp": 1}, List: []model.FD{
			{FD: 19, Type: "tcp", Target: "127.0.0.1:41085", Handle: &model.FDHandle{Type: "tcp", Active: true, Referenced: true, KeepsAlive: true}}}},
		Memory: &model.Memory{RSSBytes: u64(46 * mib), Heap: &model.Heap{UsedBytes: u64(4 * mib), TotalBytes: u64(5 * mib), LimitBytes: u64(4144 * mib), ExternalBytes: u64(1 * mib), Source: "report"}},
		Node: &model.NodeInfo{Version: "v20.20.2", Error: &model.NodeError{Message: "Error: payment service returned garbage", Code: "E_GARBAGE",
			Stack: []string{"at Timeout._onTimeout (/srv/app/server.js:10:19)", "at listOnTimeout (node:internal/timers:581:17)"}}},
		Handles: handles,
		Findings: []model.Finding{{Code: "REFERENCED_HANDLES", Severity: model.SeverityInfo, Summary: "The event loop is kept alive by 1 tcp, 1 timer: the process will not exit on its own while they stay",
			Evidence: evidence.Evidence{"count": evidence.Count(2), "by_type": evidence.CountsBy(map[string]int{"tcp": 1, "timer": 1})}, Advice: "Close servers, end sockets, clear timers."}},
		Warnings: []string{"a report holds no ppid, process group, user, state, PSS, socket states, child processes or listener counts: those parts are not judged (their keys are null)"},
	}
}
