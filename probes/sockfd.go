package probes

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// ReadTCPByFD finds the rows of pid's TCP sockets one by one instead of dumping the whole
// namespace: each socket fd is duplicated into this process with pidfd_getfd(2) (Linux
// 5.6; the same ptrace access check as reading the fd links, nothing of the target
// changes), its addresses are read with getsockname/getpeername, and sock_diag is asked
// for exactly that socket (an inet_diag_req_v2 with the socket's id and no NLM_F_DUMP).
// The kernel answers with the same inet_diag_msg a dump carries, so the rows equal the
// dump's, and the cost follows the target's socket count, not the namespace's: a target
// with 1k sockets among 100k of other processes is read in milliseconds.
//
// sockets are the socket fds of the table (ReadFDs entries of type "socket"). rows holds
// the TCP sockets found; rest the inodes of every other socket fd (UDP, unix, netlink...)
// and of any TCP socket the lookup could not match (its fd closed and reused meanwhile, a
// SO_REUSEPORT group answering with a sibling): the caller reads those from the tables.
// err is set when the method cannot be used at all (no pidfd_getfd, no privilege, no
// sock_diag); the caller then dumps as usual.
//
// The exact lookup runs in the caller's network namespace: callers use it only for a
// process in their own (SameNetNS).
func (p FS) ReadTCPByFD(pid int, sockets []FDEntry) (rows []Socket, rest map[uint64]bool, err error) {
	if !p.isRealProc() {
		return nil, nil, fmt.Errorf("socket lookup by fd needs the live /proc, not %s", p.Root)
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	var targets []FDEntry
	for _, e := range sockets {
		if e.Type == "socket" && e.Inode != 0 {
			targets = append(targets, e)
		}
	}
	// Each lookup is seven system calls (~10 µs); large tables are split between a few
	// goroutines, each with its own netlink socket.
	workers := 1
	if len(targets) >= byFDParallelMin {
		workers = min(runtime.GOMAXPROCS(0), byFDMaxWorkers)
	}
	type part struct {
		rows []Socket
		rest []uint64
		err  error
	}
	parts := make([]part, workers)
	var wg sync.WaitGroup
	chunk := (len(targets) + workers - 1) / max(workers, 1)
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(targets))
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(w int, list []FDEntry) {
			defer wg.Done()
			parts[w].rows, parts[w].rest, parts[w].err = lookupAll(pid, pidfd, list)
		}(w, targets[lo:hi])
	}
	wg.Wait()
	rest = map[uint64]bool{}
	for _, p := range parts {
		if p.err != nil {
			return nil, nil, p.err
		}
		rows = append(rows, p.rows...)
		for _, ino := range p.rest {
			rest[ino] = true
		}
	}
	return rows, rest, nil
}

// byFDParallelMin and byFDMaxWorkers: from 512 sockets the lookups are split between at
// most 4 goroutines.
const (
	byFDParallelMin = 512
	byFDMaxWorkers  = 4
)

// lookupAll looks up each socket of list through one netlink socket.
func lookupAll(pid, pidfd int, list []FDEntry) (rows []Socket, rest []uint64, err error) {
	nl, err := openDiagSocket()
	if err != nil {
		return nil, nil, err
	}
	defer unix.Close(nl)
	buf := make([]byte, 4096)
	var seq uint32
	for _, e := range list {
		fd, err := unix.PidfdGetfd(pidfd, e.FD, 0)
		if err != nil {
			if errors.Is(err, unix.EBADF) {
				continue // closed since the table was read
			}
			return nil, nil, fmt.Errorf("pidfd_getfd %d of process %d: %w", e.FD, pid, err)
		}
		seq++
		row, ok, err := lookupTCP(nl, fd, e.Inode, seq, buf)
		unix.Close(fd)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			rows = append(rows, row)
		} else {
			rest = append(rest, e.Inode)
		}
	}
	return rows, rest, nil
}

// openDiagSocket opens a NETLINK_SOCK_DIAG socket with a receive timeout.
func openDiagSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return -1, fmt.Errorf("open sock_diag netlink socket: %w", err)
	}
	timeout := unix.NsecToTimeval(diagRecvTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &timeout); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("set sock_diag receive timeout: %w", err)
	}
	return fd, nil
}

// lookupTCP asks sock_diag for the TCP socket open as fd (our duplicate), and checks the
// answer is that socket (its inode). ok is false for a socket that is not TCP over IPv4 or
// IPv6, or that the lookup did not find as itself.
func lookupTCP(nl, fd int, inode uint64, seq uint32, buf []byte) (row Socket, ok bool, err error) {
	proto, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	// An MPTCP socket (Go listens with MPTCP by default since 1.24) is listed by
	// sock_diag as the TCP socket it runs over, with the same inode.
	if err != nil || (proto != unix.IPPROTO_TCP && proto != unix.IPPROTO_MPTCP) {
		return row, false, nil
	}
	local, err := unix.Getsockname(fd)
	if err != nil {
		return row, false, nil
	}
	remote, err := unix.Getpeername(fd)
	if err != nil {
		remote = nil // a listener, or not connected: the remote part of the id stays zero
	}
	var req [nlmsgHeaderLen + inetDiagReqV2Len]byte
	if !encodeInetDiagLookup(req[:], seq, local, remote) {
		return row, false, nil
	}
	if err := unix.Sendto(nl, req[:], 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return row, false, fmt.Errorf("send sock_diag lookup: %w", err)
	}
	for {
		n, err := unix.Read(nl, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return row, false, fmt.Errorf("read sock_diag lookup: %w", err)
		}
		seen, found, err := parseLookupReply(buf[:n], seq, inode, &row)
		if err != nil {
			return row, false, err
		}
		if seen {
			return row, found, nil
		}
		// Only replies to earlier requests in this datagram: read on.
	}
}

// parseLookupReply reads the messages of one datagram for the answer to request seq: the
// socket (found when its inode is inode) or an error (not found: ENOENT and the like).
// seen is false when the datagram holds no message of seq.
func parseLookupReply(b []byte, seq uint32, inode uint64, row *Socket) (seen, found bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= nlmsgHeaderLen {
		msgLen := int(ne.Uint32(b[0:4]))
		if msgLen < nlmsgHeaderLen || msgLen > len(b) {
			return false, false, fmt.Errorf("sock_diag lookup: %w: netlink message length %d with %d bytes left", ErrMalformed, msgLen, len(b))
		}
		msgType, msgSeq := ne.Uint16(b[4:6]), ne.Uint32(b[8:12])
		payload := b[nlmsgHeaderLen:msgLen]
		b = b[min(nlmsgAlign(msgLen), len(b)):]
		if msgSeq != seq {
			continue
		}
		seen = true
		if msgType == unix.SOCK_DIAG_BY_FAMILY {
			err := parseInetDiagMsg(payload, false, func(ino uint64) bool { return ino == inode }, func(s Socket) {
				*row, found = s, true
			})
			if err != nil {
				return true, false, fmt.Errorf("sock_diag lookup: %w", err)
			}
		}
	}
	return seen, found, nil
}

// encodeInetDiagLookup writes a request for exactly the socket with these endpoints:
// inet_diag_req_v2 with idiag_src/sport the local end, idiag_dst/dport the remote (zero
// for a listener), any interface and INET_DIAG_NOCOOKIE. false for another family.
func encodeInetDiagLookup(b []byte, seq uint32, local, remote unix.Sockaddr) bool {
	ne := binary.NativeEndian
	ne.PutUint32(b[0:4], uint32(len(b)))
	ne.PutUint16(b[4:6], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:8], unix.NLM_F_REQUEST)
	ne.PutUint32(b[8:12], seq)
	ne.PutUint32(b[12:16], 0)
	r := b[nlmsgHeaderLen:]
	clear(r)
	r[1] = unix.IPPROTO_TCP
	ne.PutUint32(r[4:8], InetDiagAllStates)
	id := r[8:]
	switch l := local.(type) {
	case *unix.SockaddrInet4:
		r[0] = unix.AF_INET
		binary.BigEndian.PutUint16(id[0:2], uint16(l.Port))
		copy(id[4:8], l.Addr[:])
		if rem, ok := remote.(*unix.SockaddrInet4); ok {
			binary.BigEndian.PutUint16(id[2:4], uint16(rem.Port))
			copy(id[20:24], rem.Addr[:])
		}
	case *unix.SockaddrInet6:
		r[0] = unix.AF_INET6
		binary.BigEndian.PutUint16(id[0:2], uint16(l.Port))
		copy(id[4:20], l.Addr[:])
		if rem, ok := remote.(*unix.SockaddrInet6); ok {
			binary.BigEndian.PutUint16(id[2:4], uint16(rem.Port))
			copy(id[20:36], rem.Addr[:])
		}
	default:
		return false
	}
	// idiag_if (id[36:40]) 0: any interface; idiag_cookie INET_DIAG_NOCOOKIE (~0, ~0).
	ne.PutUint32(id[40:44], ^uint32(0))
	ne.PutUint32(id[44:48], ^uint32(0))
	return true
}
