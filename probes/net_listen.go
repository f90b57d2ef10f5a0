package probes

import (
	"golang.org/x/sys/unix"
)

// ReadListeningTCP returns the listening TCP sockets (IPv4 and IPv6) of pid's network
// namespace, whoever owns them. When the process shares our namespace they come from
// netlink sock_diag with a LISTEN state filter (the kernel skips every other socket, so a
// namespace with 100k connections costs next to nothing); otherwise from
// /proc/<pid>/net/tcp and tcp6.
func (p FS) ReadListeningTCP(pid int) ([]Socket, error) {
	var out []Socket
	emit := func(s Socket) {
		if s.State == "LISTEN" {
			out = append(out, s)
		}
	}
	if same, err := SameNetNS(p, pid); err == nil && same {
		mask, _ := InetDiagStates("LISTEN")
		ok := true
		for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
			if err := DumpInetDiag(family, unix.IPPROTO_TCP, mask, nil, emit); err != nil {
				ok = false
				break
			}
		}
		if ok {
			return out, nil
		}
		out = out[:0]
	}
	for _, t := range selectTables([]string{ProtoTCP}) {
		if err := p.readSocketTable(pid, t, nil, emit); err != nil {
			return out, err
		}
	}
	return out, nil
}

// SocketInodes returns the inodes of pid's socket fds (one readlink per fd, no stat).
func (p FS) SocketInodes(pid int) (map[uint64]bool, error) {
	entries, _, err := p.ReadFDs(pid)
	if err != nil {
		return nil, err
	}
	inodes := make(map[uint64]bool)
	for _, e := range entries {
		if e.Type == "socket" && e.Inode != 0 {
			inodes[e.Inode] = true
		}
	}
	return inodes, nil
}
