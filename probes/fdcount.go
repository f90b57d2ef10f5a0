package probes

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// CountFDs returns the number of open fds of pid from the size of its /proc/<pid>/fd
// directory: since Linux 6.2 ("proc: report open files as size in stat() for
// /proc/pid/fd") procfs reports the fd count as st_size. One stat, no readdir, and it needs only search
// permission on /proc/<pid>, so it works on another user's process whose fd table itself
// is denied. ok is false where the kernel does not support it (older kernels report 0) or
// the root is not a procfs mount (a fake tree's directory size is the filesystem's).
func (p FS) CountFDs(pid int) (n int, ok bool, err error) {
	if !p.isRealProc() {
		return 0, false, nil
	}
	path := p.PidPath(pid, "fd")
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, false, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return 0, false, fmt.Errorf("%s: not a directory", path)
	}
	// A process always has fds 0-2 open unless it closed them: 0 is what old kernels
	// report for every process, so it cannot be told from "no fds" and is not trusted.
	if st.Size <= 0 {
		return 0, false, nil
	}
	return int(st.Size), true, nil
}
