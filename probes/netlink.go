package probes

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// TCP states as numbered in include/net/tcp_states.h. A states mask for DumpInetDiag has
// bit 1<<state set for each state wanted. UDP sockets use two of them: TCP_ESTABLISHED for
// a connected socket and TCP_CLOSE for an unconnected one (shown as "UNCONN").
const (
	diagTCPEstablished = 1
	diagTCPTimeWait    = 6
	diagTCPClose       = 7
	diagTCPListen      = 10
	diagTCPNewSynRecv  = 12
	// diagTCPBoundInactive (13, Linux 6.8+) is a pseudo-state that asks inet_diag for sockets
	// that are bound but neither listening nor connected. /proc/net/tcp does not list
	// them, so DumpInetDiag never asks for them.
	diagTCPBoundInactive = 13
)

// InetDiagAllStates is the DumpInetDiag states mask that selects every socket /proc/net/tcp{,6}
// and /proc/net/udp{,6} list: bits 1 (ESTABLISHED) to 12 (NEW_SYN_RECV).
const InetDiagAllStates uint32 = 1<<(diagTCPNewSynRecv+1) - 1<<diagTCPEstablished

// InetDiagFDStates selects the sockets that can be an fd of a process: every state but
// TIME_WAIT and NEW_SYN_RECV, whose rows are kernel-only minisocks and request socks with
// inode 0 (a process's fd is closed before TIME_WAIT begins, and a connection is a full
// socket before accept). SYN_RECV stays: a TCP Fast Open child is accepted in it. A busy
// server's namespace holds tens of thousands of TIME_WAIT sockets; a dump for the fd join
// skips them in the kernel.
const InetDiagFDStates uint32 = InetDiagAllStates &^ (1<<diagTCPTimeWait | 1<<diagTCPNewSynRecv)

// diagTCPStateNames are the Socket.State names by kernel state number: the same table the
// /proc parser names the st column with (include/net/tcp_states.h).
var diagTCPStateNames = tcpStates

// InetDiagStates returns the DumpInetDiag states mask that selects the named states, spelled as
// in Socket.State ("CLOSE_WAIT", "LISTEN"; "UNCONN" is UDP's name for CLOSE).
func InetDiagStates(names ...string) (uint32, error) {
	var mask uint32
	for _, name := range names {
		bit := -1
		if name == "UNCONN" {
			bit = diagTCPClose
		}
		for i, n := range diagTCPStateNames {
			if n != "" && n == name {
				bit = i
			}
		}
		if bit < 0 {
			return 0, fmt.Errorf("unknown socket state %q", name)
		}
		mask |= 1 << bit
	}
	return mask, nil
}

// diagStateName names kernel state number state as the /proc/net parsers do: the TCP names
// of include/net/tcp_states.h, "UNCONN" for an unconnected UDP socket, and
// "UNKNOWN_XX" (hex, like the st column) for a number outside the table.
func diagStateName(state uint8, udp bool) string {
	if udp && state == diagTCPClose {
		return "UNCONN"
	}
	if int(state) < len(diagTCPStateNames) && diagTCPStateNames[state] != "" {
		return diagTCPStateNames[state]
	}
	return fmt.Sprintf("UNKNOWN_%02X", state)
}

// Sizes of the structures of include/uapi/linux/netlink.h and inet_diag.h.
const (
	// nlmsgHeaderLen is sizeof(struct nlmsghdr): len u32, type u16, flags u16, seq u32, pid u32.
	nlmsgHeaderLen = 16
	// inetDiagReqV2Len is sizeof(struct inet_diag_req_v2): family, protocol, ext, pad,
	// states u32, then a 48-byte struct inet_diag_sockid.
	inetDiagReqV2Len = 56
	// inetDiagMsgLen is sizeof(struct inet_diag_msg): family, state, timer, retrans, the
	// 48-byte sockid, then expires, rqueue, wqueue, uid, inode (u32 each).
	inetDiagMsgLen = 72
)

// diagRecvBufferSize is the receive buffer of one dump. The kernel fills each datagram of a
// dump up to the reader's buffer size but never beyond SKB_WITH_OVERHEAD(32768)
// (net/netlink/af_netlink.c, netlink_recvmsg), so 64 KiB can never truncate a datagram.
const diagRecvBufferSize = 64 << 10

// diagRecvTimeout bounds each wait for a reply datagram, so a kernel that never answers
// cannot hang the tool. A dump of 100k sockets takes well under a second.
const diagRecvTimeout = 10 * time.Second

// diagBuffers recycles receive buffers between dumps: a scan makes four (tcp, tcp6, udp,
// udp6) and each would otherwise allocate 64 KiB.
var diagBuffers = sync.Pool{New: func() any {
	b := make([]byte, diagRecvBufferSize)
	return &b
}}

// diagProtoName returns the Socket.Proto of a (family, protocol) pair, the name of the
// /proc/net table that lists the same sockets.
func diagProtoName(family, proto uint8) (string, error) {
	switch {
	case family == unix.AF_INET && proto == unix.IPPROTO_TCP:
		return "tcp", nil
	case family == unix.AF_INET6 && proto == unix.IPPROTO_TCP:
		return "tcp6", nil
	case family == unix.AF_INET && proto == unix.IPPROTO_UDP:
		return "udp", nil
	case family == unix.AF_INET6 && proto == unix.IPPROTO_UDP:
		return "udp6", nil
	}
	return "", fmt.Errorf("sock_diag dump of family %d protocol %d: only AF_INET/AF_INET6 with TCP/UDP are supported", family, proto)
}

// DumpInetDiag dumps the TCP or UDP sockets of one address family of the caller's network
// namespace through netlink sock_diag (inet_diag, include/uapi/linux/inet_diag.h), the
// interface ss(8) uses. It is the fast path for a target that shares our network
// namespace (see SameNetNS): the kernel skips sockets whose state is not in states
// (a mask of 1<<state bits, see InetDiagAllStates and InetDiagStates), and a row whose inode want
// rejects costs no allocation.
//
// family is unix.AF_INET or unix.AF_INET6, proto unix.IPPROTO_TCP or unix.IPPROTO_UDP. Each
// row emitted is identical to the row the /proc/net/{tcp,tcp6,udp,udp6} parsers produce for
// the same socket (same Proto, State, addresses, queues, UID and Inode; IPv4 peers of a
// dual-stack socket appear v4-mapped in the AF_INET6 dump as in tcp6), except that a
// LISTEN TCP socket also carries its Backlog. One kind of row differs: a connection still
// in its handshake (SYN_RECV, a request socket) has UID 0 here and the listener's uid in
// /proc; its inode is 0 in both, so it never joins an fd.
//
// The socket is created in the calling thread's network namespace: a caller that entered
// another namespace with setns must hold the thread (runtime.LockOSThread) across the call.
// A kernel without inet_diag support for proto answers with an error (often ENOENT); the
// caller then falls back to the /proc tables. A nil want keeps every row.
func DumpInetDiag(family uint8, proto uint8, states uint32, want func(inode uint64) bool, emit func(Socket)) error {
	udp := proto == unix.IPPROTO_UDP
	return dumpInetDiag(family, proto, states, 0, func(payload []byte) error {
		return parseInetDiagMsg(payload, udp, want, emit)
	})
}

// dumpInetDiag sends one sock_diag dump request for family, proto and states, asking for
// the attributes in ext (a mask of 1<<(INET_DIAG_x-1) bits, 0 for none), and hands the
// payload of every inet_diag_msg of the reply (the message, then its attributes) to onMsg.
func dumpInetDiag(family uint8, proto uint8, states uint32, ext uint8, onMsg func(payload []byte) error) error {
	name, err := diagProtoName(family, proto)
	if err != nil {
		return err
	}
	states &= InetDiagAllStates
	if states == 0 {
		return nil
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return fmt.Errorf("open sock_diag netlink socket: %w", err)
	}
	defer unix.Close(fd)
	timeout := unix.NsecToTimeval(diagRecvTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &timeout); err != nil {
		return fmt.Errorf("set sock_diag receive timeout: %w", err)
	}

	const seq = 1 // a fresh socket per dump: no reply of an earlier request can arrive
	var req [nlmsgHeaderLen + inetDiagReqV2Len]byte
	encodeInetDiagRequest(req[:], seq, family, proto, states)
	req[nlmsgHeaderLen+2] = ext // inet_diag_req_v2.idiag_ext
	if err := unix.Sendto(fd, req[:], 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("send sock_diag %s dump request: %w", name, err)
	}

	bufp := diagBuffers.Get().(*[]byte)
	defer diagBuffers.Put(bufp)
	buf := *bufp
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("read sock_diag %s dump: %w", name, err)
		}
		if n == 0 {
			return fmt.Errorf("read sock_diag %s dump: %w: reply ended without NLMSG_DONE", name, ErrMalformed)
		}
		done, err := parseInetDiagReply(buf[:n], seq, onMsg)
		if err != nil {
			return fmt.Errorf("sock_diag %s dump: %w", name, err)
		}
		if done {
			return nil
		}
	}
}

// encodeInetDiagRequest writes an nlmsghdr and an inet_diag_req_v2 that dumps every socket
// of family and proto in states, with no extensions (no INET_DIAG_INFO, meminfo...): the
// bare inet_diag_msg carries everything Socket holds.
func encodeInetDiagRequest(b []byte, seq uint32, family, proto uint8, states uint32) {
	ne := binary.NativeEndian
	ne.PutUint32(b[0:4], uint32(len(b)))
	ne.PutUint16(b[4:6], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:8], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(b[8:12], seq)
	ne.PutUint32(b[12:16], 0) // port id 0: the kernel fills in ours
	r := b[nlmsgHeaderLen:]
	clear(r)
	r[0] = family
	r[1] = proto
	ne.PutUint32(r[4:8], states)
	// The sockid (ports, addresses, interface, cookie) stays zero: no filter in a dump.
}

// nlmsgAlign rounds a netlink message length up to the 4-byte boundary of NLMSG_ALIGN.
func nlmsgAlign(n int) int {
	return (n + 3) &^ 3
}

// parseInetDiag parses one datagram of a sock_diag dump reply: netlink messages each
// holding an inet_diag_msg, until NLMSG_DONE (done is then true). Messages of another
// sequence number are skipped. A kernel error (NLMSG_ERROR, or an error in NLMSG_DONE)
// is returned as its errno; malformed messages as ErrMalformed.
func parseInetDiag(b []byte, seq uint32, udp bool, want func(inode uint64) bool, emit func(Socket)) (done bool, err error) {
	return parseInetDiagReply(b, seq, func(payload []byte) error {
		return parseInetDiagMsg(payload, udp, want, emit)
	})
}

// parseInetDiagReply is parseInetDiag with the handling of each inet_diag_msg payload
// (the message and its attributes) left to onMsg.
func parseInetDiagReply(b []byte, seq uint32, onMsg func(payload []byte) error) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < nlmsgHeaderLen {
			return false, fmt.Errorf("%w: netlink header truncated to %d bytes", ErrMalformed, len(b))
		}
		msgLen := int(ne.Uint32(b[0:4]))
		msgType := ne.Uint16(b[4:6])
		msgSeq := ne.Uint32(b[8:12])
		if msgLen < nlmsgHeaderLen || msgLen > len(b) {
			return false, fmt.Errorf("%w: netlink message length %d with %d bytes left", ErrMalformed, msgLen, len(b))
		}
		payload := b[nlmsgHeaderLen:msgLen]
		b = b[min(nlmsgAlign(msgLen), len(b)):]
		if msgSeq != seq {
			continue
		}
		switch msgType {
		case unix.NLMSG_DONE:
			// Since Linux 4.x the payload is the dump's int error; 0 means success.
			if len(payload) >= 4 {
				if e := int32(ne.Uint32(payload[0:4])); e < 0 {
					return true, fmt.Errorf("kernel ended the dump with: %w", syscall.Errno(-e))
				}
			}
			return true, nil
		case unix.NLMSG_ERROR:
			if len(payload) < 4 {
				return true, fmt.Errorf("%w: NLMSG_ERROR of %d bytes", ErrMalformed, len(payload))
			}
			e := int32(ne.Uint32(payload[0:4]))
			if e == 0 {
				continue // an acknowledgement, not an error
			}
			if e > 0 {
				return true, fmt.Errorf("%w: NLMSG_ERROR with positive error %d", ErrMalformed, e)
			}
			return true, fmt.Errorf("kernel refused the request: %w", syscall.Errno(-e))
		case unix.SOCK_DIAG_BY_FAMILY:
			if err := onMsg(payload); err != nil {
				return false, err
			}
		default:
			// NLMSG_NOOP and anything else carry no socket.
		}
	}
	return false, nil
}

// parseInetDiagMsg turns one struct inet_diag_msg into a Socket and emits it when want
// accepts its inode. Fields are laid out as in include/uapi/linux/inet_diag.h: ports and
// addresses in network byte order, the counters in host order.
func parseInetDiagMsg(m []byte, udp bool, want func(inode uint64) bool, emit func(Socket)) error {
	if len(m) < inetDiagMsgLen {
		return fmt.Errorf("%w: inet_diag_msg of %d bytes, want %d", ErrMalformed, len(m), inetDiagMsgLen)
	}
	ne := binary.NativeEndian
	inode := uint64(ne.Uint32(m[68:72]))
	family := m[0]
	if family != unix.AF_INET && family != unix.AF_INET6 {
		return fmt.Errorf("%w: inet_diag_msg of address family %d", ErrMalformed, family)
	}
	if want != nil && !want(inode) {
		return nil
	}
	state := m[1]
	// m[2] is idiag_timer (the /proc tables' tr column); m[3] idiag_retrans and m[52:56]
	// idiag_expires have no Socket field (tm->when and retrnsmt are not kept either).
	localPort := binary.BigEndian.Uint16(m[4:6])
	remotePort := binary.BigEndian.Uint16(m[6:8])
	// m[40:44] idiag_if and m[44:52] idiag_cookie: not in Socket.
	rqueue := uint64(ne.Uint32(m[56:60]))
	wqueue := uint64(ne.Uint32(m[60:64]))
	uid := ne.Uint32(m[64:68])

	var local, remote netip.Addr
	var proto string
	if family == unix.AF_INET {
		local = netip.AddrFrom4([4]byte(m[8:12]))
		remote = netip.AddrFrom4([4]byte(m[24:28]))
		proto = "tcp"
		if udp {
			proto = "udp"
		}
	} else {
		local = netip.AddrFrom16([16]byte(m[8:24]))
		remote = netip.AddrFrom16([16]byte(m[24:40]))
		proto = "tcp6"
		if udp {
			proto = "udp6"
		}
	}
	s := Socket{
		Proto:      proto,
		State:      diagStateName(state, udp),
		LocalPort:  int(localPort),
		RemotePort: int(remotePort),
		RxQueue:    rqueue,
		TxQueue:    wqueue,
		UID:        int(uid),
		Inode:      inode,
		// idiag_timer: only the zero-window probe is kept (see Socket).
		ZeroWindowProbe: !udp && m[2] == timerZeroWindowProbe,
	}
	if !udp && state == diagTCPListen {
		// For a listener inet_diag reports sk_ack_backlog (the accept queue, /proc's
		// rx_queue) and sk_max_ack_backlog (the listen backlog) where /proc has tx_queue,
		// which is 0 there (net/ipv4/tcp_diag.c tcp_diag_get_info, tcp_ipv4.c get_tcp4_sock).
		s.Backlog = wqueue
		s.TxQueue = 0
	}
	s.Local, _ = formatAddrPort(local, localPort)
	s.Remote, s.RemoteIP = formatAddrPort(remote, remotePort)
	emit(s)
	return nil
}

// formatAddrPort formats an endpoint exactly as netip.AddrPort.String ("ip:port",
// "[ipv6]:port", v4-mapped as "[::ffff:1.2.3.4]:port") and returns also the address alone,
// a substring of the first so that both cost one allocation.
func formatAddrPort(addr netip.Addr, port uint16) (endpoint, ip string) {
	var scratch [64]byte // "[" + 45-byte IPv6 text + "]:" + 5 digits fits
	b := scratch[:0]
	if addr.Is4() {
		b = addr.AppendTo(b)
	} else {
		b = append(b, '[')
		b = addr.AppendTo(b)
		b = append(b, ']')
	}
	end := len(b)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(port), 10)
	endpoint = string(b)
	if addr.Is4() {
		return endpoint, endpoint[:end]
	}
	return endpoint, endpoint[1 : end-1]
}
