package probes

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TCPQueue is one read of a TCP connection's queues, and, when read through sock_diag, of
// the byte counters that tell whether the queues moved between two reads.
type TCPQueue struct {
	Inode uint64
	// State is the TCP state name (ESTABLISHED, CLOSE_WAIT, ...).
	State string
	// RxQueue is the data received and not yet read by the process (rcv_nxt − copied_seq);
	// TxQueue the data written and not yet acknowledged by the peer (write_seq − snd_una).
	RxQueue, TxQueue uint64
	// BytesReceived and BytesAcked are tcp_info's tcpi_bytes_received and
	// tcpi_bytes_acked (include/uapi/linux/tcp.h, Linux 4.1+): bytes ever received, and
	// ever acknowledged by the peer. Nil when read from the /proc tables, which lack them.
	BytesReceived, BytesAcked *uint64
	// LastDataRecvMS is tcp_info's tcpi_last_data_recv: milliseconds since data last
	// arrived on the connection (a FIN or a bare ACK does not count). Nil when read from
	// the /proc tables.
	LastDataRecvMS *uint32
	// ZeroWindowProbe is true when the zero-window probe timer is pending (Socket.Timer
	// 4): the peer advertises a zero receive window, so nothing can be sent.
	ZeroWindowProbe bool
}

// timerZeroWindowProbe is the value of the timer field (tr column, idiag_timer) while the
// zero-window probe timer (ICSK_TIME_PROBE0) is pending.
const timerZeroWindowProbe = 4

// inetDiagInfo is INET_DIAG_INFO (include/uapi/linux/inet_diag.h): the attribute that
// carries struct tcp_info; a request asks for it with bit 1<<(INET_DIAG_INFO-1) of idiag_ext.
const inetDiagInfo = 2

// Offsets of the tcp_info counters, from the kernel's layout as x/sys mirrors it.
var (
	tcpInfoBytesAckedOffset    = int(unsafe.Offsetof(unix.TCPInfo{}.Bytes_acked))
	tcpInfoBytesReceivedOffset = int(unsafe.Offsetof(unix.TCPInfo{}.Bytes_received))
	tcpInfoLastDataRecvOffset  = int(unsafe.Offsetof(unix.TCPInfo{}.Last_data_recv))
)

// ReadTCPQueues reads the queues of the TCP sockets of pid's network namespace whose inode
// want accepts (nil: all), in states ESTABLISHED, CLOSE_WAIT, FIN_WAIT1/2 and LAST_ACK.
// When the process shares our namespace they come from sock_diag with INET_DIAG_INFO, so
// each row carries the byte counters; otherwise (or when sock_diag fails) from
// /proc/<pid>/net/tcp and tcp6 without them (errs then holds a SockDiagFallbackError when
// sock_diag failed).
func (p FS) ReadTCPQueues(pid int, want func(uint64) bool) ([]TCPQueue, []error) {
	var rows []TCPQueue
	var errs []error
	if same, err := SameNetNS(p, pid); err == nil && same {
		rows, err := dumpTCPQueues(want)
		if err == nil {
			return rows, nil
		}
		errs = append(errs, &SockDiagFallbackError{Dir: p.PidPath(pid, "net"), Err: err, Lost: "the byte counters"})
	}
	emit := func(s Socket) {
		if tcpQueueStates[s.State] {
			rows = append(rows, TCPQueue{Inode: s.Inode, State: s.State, RxQueue: s.RxQueue, TxQueue: s.TxQueue, ZeroWindowProbe: s.ZeroWindowProbe})
		}
	}
	for _, t := range selectTables([]string{ProtoTCP}) {
		if err := p.readSocketTable(pid, t, want, emit); err != nil {
			errs = append(errs, err)
		}
	}
	return rows, errs
}

// tcpQueueStates are the states of a connection that can hold data both ways.
var tcpQueueStates = map[string]bool{"ESTABLISHED": true, "CLOSE_WAIT": true, "FIN_WAIT1": true, "FIN_WAIT2": true, "LAST_ACK": true}

// dumpTCPQueues dumps the connections of our namespace through sock_diag with tcp_info.
func dumpTCPQueues(want func(uint64) bool) ([]TCPQueue, error) {
	var states []string
	for s := range tcpQueueStates {
		states = append(states, s)
	}
	mask, err := InetDiagStates(states...)
	if err != nil {
		return nil, err
	}
	var rows []TCPQueue
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		err := dumpInetDiag(family, unix.IPPROTO_TCP, mask, 1<<(inetDiagInfo-1), func(payload []byte) error {
			q, ok, err := parseTCPQueueMsg(payload, want)
			if ok {
				rows = append(rows, q)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// parseTCPQueueMsg reads one inet_diag_msg and its INET_DIAG_INFO attribute. ok is false
// for a row want rejects. A tcp_info too short to hold the counters (a kernel before 4.1)
// leaves them nil.
func parseTCPQueueMsg(m []byte, want func(uint64) bool) (TCPQueue, bool, error) {
	if len(m) < inetDiagMsgLen {
		return TCPQueue{}, false, fmt.Errorf("%w: inet_diag_msg of %d bytes, want %d", ErrMalformed, len(m), inetDiagMsgLen)
	}
	ne := binary.NativeEndian
	inode := uint64(ne.Uint32(m[68:72]))
	if want != nil && !want(inode) {
		return TCPQueue{}, false, nil
	}
	q := TCPQueue{
		Inode:   inode,
		State:   diagStateName(m[1], false),
		RxQueue: uint64(ne.Uint32(m[56:60])),
		TxQueue: uint64(ne.Uint32(m[60:64])),
		// idiag_timer
		ZeroWindowProbe: m[2] == timerZeroWindowProbe,
	}
	// Attributes follow the message, each a struct rtattr (len u16, type u16) and its data,
	// aligned to 4 bytes (RTA_ALIGN, include/uapi/linux/rtnetlink.h).
	attrs := m[inetDiagMsgLen:]
	for len(attrs) >= 4 {
		l := int(ne.Uint16(attrs[0:2]))
		typ := ne.Uint16(attrs[2:4])
		if l < 4 || l > len(attrs) {
			return q, true, fmt.Errorf("%w: rtattr length %d with %d bytes left", ErrMalformed, l, len(attrs))
		}
		if typ == inetDiagInfo {
			info := attrs[4:l]
			if len(info) >= tcpInfoLastDataRecvOffset+4 {
				last := ne.Uint32(info[tcpInfoLastDataRecvOffset:])
				q.LastDataRecvMS = &last
			}
			if len(info) >= tcpInfoBytesReceivedOffset+8 {
				acked := ne.Uint64(info[tcpInfoBytesAckedOffset:])
				received := ne.Uint64(info[tcpInfoBytesReceivedOffset:])
				q.BytesAcked, q.BytesReceived = &acked, &received
			}
		}
		attrs = attrs[min(nlmsgAlign(l), len(attrs)):]
	}
	return q, true, nil
}

// TCPQueuesByInode is ReadTCPQueues of the sockets in want, by inode; each error that
// ReadTCPQueues returns is passed to warn as "socket queues: <error>".
func (p FS) TCPQueuesByInode(pid int, want map[uint64]bool, warn func(string, ...any)) map[uint64]TCPQueue {
	rows, errs := p.ReadTCPQueues(pid, func(ino uint64) bool { return want[ino] })
	for _, e := range errs {
		warn("socket queues: %v", e)
	}
	out := make(map[uint64]TCPQueue, len(rows))
	for _, q := range rows {
		out[q.Inode] = q
	}
	return out
}
