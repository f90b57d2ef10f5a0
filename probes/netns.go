package probes

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ownNetNSPath is the link naming the network namespace of this process. It is read from the
// real /proc whatever the FS root: it is our namespace the netlink socket sees.
const ownNetNSPath = "/proc/self/ns/net"

// SameNetNS reports whether process pid of p lives in this process's network namespace, so
// that a sock_diag dump (DumpInetDiag) sees exactly the sockets its /proc/<pid>/net tables
// list. It compares the texts of the /proc/self/ns/net and /proc/<pid>/ns/net links
// ("net:[4026531840]"): namespaces are inodes of the one nsfs, so equal texts are the same
// namespace even when p is a host's procfs mounted elsewhere.
//
// When p's root is not a procfs mount (a fake tree of testdata), the answer is false with no
// error: a fake tree's sockets are not the kernel's. Reading another user's ns link needs
// ptrace access; without it the error satisfies IsDenied, and IsGone when pid has exited.
func SameNetNS(p FS, pid int) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(p.Root, &st); err != nil {
		return false, fmt.Errorf("statfs %s: %w", p.Root, err)
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		return false, nil
	}
	ours, err := os.Readlink(ownNetNSPath)
	if err != nil {
		return false, fmt.Errorf("read own network namespace: %w", err)
	}
	theirs, err := p.NetNamespace(pid)
	if err != nil {
		return false, err
	}
	return ours == theirs, nil
}
