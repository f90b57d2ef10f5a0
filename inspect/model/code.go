package model

// Code is a finding's stable identifier, one of the contract's codes. Scripts match on it;
// its Summary text may improve between releases, its Code never changes.
type Code string

// The finding codes of the contract, each with when it fires and its severity.
const (
	// CodeEMFILERisk (warning; ≥ 95% critical): open fds / soft RLIMIT_NOFILE ≥ 80%.
	CodeEMFILERisk Code = "EMFILE_RISK"
	// CodeCloseWaitLeak (warning; ≥ 100 critical): ≥ 10 sockets in CLOSE_WAIT (peer closed, this process never did).
	CodeCloseWaitLeak Code = "CLOSE_WAIT_LEAK"
	// CodeDeletedFilesHeld (warning): fds on deleted files (disk space not freed), with total size.
	CodeDeletedFilesHeld Code = "DELETED_FILES_HELD"
	// CodeZombieChildren (warning): children in state Z that the process has not reaped.
	CodeZombieChildren Code = "ZOMBIE_CHILDREN"
	// CodeOrphanProcess (warning): the process (or a member of its process group) lost its parent and was re-parented.
	CodeOrphanProcess Code = "ORPHAN_PROCESS"
	// CodeEventLoopBlocked (warning): the main thread was never seen waiting in epoll over the sample window.
	CodeEventLoopBlocked Code = "EVENT_LOOP_BLOCKED"
	// CodeListenBacklog (warning): connections wait in a listening socket's accept queue through the sample window (nobody is accepting them); where the backlog size is known (netlink), also when the queue is ≥ 50% full.
	CodeListenBacklog Code = "LISTEN_BACKLOG"
	// CodeInspectorExposed (critical): the inspector listens on a non-loopback address.
	CodeInspectorExposed Code = "INSPECTOR_EXPOSED"
	// CodeInspectorOpen (info): the inspector listens on loopback.
	CodeInspectorOpen Code = "INSPECTOR_OPEN"
	// CodeExternalMemory (warning): RSS ≥ 3 × V8 heap total and ≥ 256 MiB above it (needs heap data).
	CodeExternalMemory Code = "EXTERNAL_MEMORY"
	// CodeHeapNearLimit (warning; ≥ 95% critical): heap used ≥ 85% of the V8 heap limit.
	CodeHeapNearLimit Code = "HEAP_NEAR_LIMIT"
	// CodeNoSIGTERMHandler (info): no SIGTERM listener: a kill or a pod shutdown drops in-flight work.
	CodeNoSIGTERMHandler Code = "NO_SIGTERM_HANDLER"
	// CodeNoErrorHandlers (info): no uncaughtException / unhandledRejection listener.
	CodeNoErrorHandlers Code = "NO_ERROR_HANDLERS"
	// CodeReferencedHandles (info): (analyze, attach) the handles that keep the event loop alive, by type.
	CodeReferencedHandles Code = "REFERENCED_HANDLES"
	// CodeFDGrowth (warning): (watch, diff) steady growth, with rate and time to limit.
	CodeFDGrowth Code = "FD_GROWTH"
	// CodeCloseWaitGrowth (warning): (watch, diff) steady growth, with rate and time to limit.
	CodeCloseWaitGrowth Code = "CLOSE_WAIT_GROWTH"
	// CodeRSSGrowth (warning): (watch, diff) steady growth, with rate and time to limit.
	CodeRSSGrowth Code = "RSS_GROWTH"
	// CodeHeapGrowth (warning): (watch, diff) steady growth, with rate and time to limit.
	CodeHeapGrowth Code = "HEAP_GROWTH"
	// CodeEventLoopSaturated (warning): the loop turns (the main thread keeps making system calls) but is busy ≥ 90% of the window.
	CodeEventLoopSaturated Code = "EVENT_LOOP_SATURATED"
	// CodeEventLoopDelay (warning; ≥ 1 s critical): (attach) p99 event-loop delay over the window ≥ 100 ms.
	CodeEventLoopDelay Code = "EVENT_LOOP_DELAY"
	// CodeStalledSockets (warning): ≥ 5 TCP connections whose receive queue (the process stopped reading) or send queue (the peer stopped reading) does not drain through the window.
	CodeStalledSockets Code = "STALLED_SOCKETS"
	// CodeProcessCrashed (critical): (analyze) the report was written for an uncaught exception, a fatal error or an OOM.
	CodeProcessCrashed Code = "PROCESS_CRASHED"
	// CodeContainerMemoryNearLimit (warning; ≥ 95% critical): cgroup working set ≥ 85% of its memory limit.
	CodeContainerMemoryNearLimit Code = "CONTAINER_MEMORY_NEAR_LIMIT"
	// CodeOOMKilled (warning; critical when they grew during the window): the cgroup recorded OOM kills.
	CodeOOMKilled Code = "OOM_KILLED"
	// CodeCPUThrottled (warning): throttled in ≥ 20% of the CFS periods of the window.
	CodeCPUThrottled Code = "CPU_THROTTLED"
	// CodeHeapLimitAboveContainer (warning): (attach) V8 heap limit + memory outside the heap > the container's memory limit.
	CodeHeapLimitAboveContainer Code = "HEAP_LIMIT_ABOVE_CONTAINER"
	// CodePIDsNearLimit (warning): cgroup pids.current ≥ 90% of pids.max.
	CodePIDsNearLimit Code = "PIDS_NEAR_LIMIT"
)

// Codes lists every code of the contract, in the contract's order.
var Codes = []Code{
	CodeEMFILERisk,
	CodeCloseWaitLeak,
	CodeDeletedFilesHeld,
	CodeZombieChildren,
	CodeOrphanProcess,
	CodeEventLoopBlocked,
	CodeListenBacklog,
	CodeInspectorExposed,
	CodeInspectorOpen,
	CodeExternalMemory,
	CodeHeapNearLimit,
	CodeNoSIGTERMHandler,
	CodeNoErrorHandlers,
	CodeReferencedHandles,
	CodeFDGrowth,
	CodeCloseWaitGrowth,
	CodeRSSGrowth,
	CodeHeapGrowth,
	CodeEventLoopSaturated,
	CodeEventLoopDelay,
	CodeStalledSockets,
	CodeProcessCrashed,
	CodeContainerMemoryNearLimit,
	CodeOOMKilled,
	CodeCPUThrottled,
	CodeHeapLimitAboveContainer,
	CodePIDsNearLimit,
}
