// Package container reads the container section of a snapshot: the process's cgroups (/proc/<pid>/cgroup), mapped to directories
// through the reader's own mountinfo (or, when the reader has no cgroup mount for them,
// the target's, reached through /proc/<pid>/root, which needs CAP_SYS_PTRACE), read on
// cgroup v1 and v2. Limits are the smallest among the cgroup and its ancestors up to the
// mount's root; usage is that of the cgroup whose limit applies, since that is what the
// kernel compares with the limit.
//
// A Reader reads one process (Read), a Window measures CPU throttling and OOM kills over
// the sample window (Window.Finish), and a Cache shares the reads of processes in the
// same cgroups during a ps scan.
package container
