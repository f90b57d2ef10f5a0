package probes

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// diagMsg builds one netlink message holding an inet_diag_msg, as the kernel sends it.
type diagMsg struct {
	family, state          uint8
	local, remote          netip.AddrPort
	rqueue, wqueue, uid    uint32
	inode                  uint32
	seq                    uint32
	msgType                uint16
	truncate, overrideLen  int // bytes cut from the payload; a forced nlmsg_len when > 0
	extraPayload           int // attribute bytes after the inet_diag_msg
	errorCode, errorLength int // for NLMSG_ERROR / NLMSG_DONE: the int error and its byte count
}

func (d diagMsg) bytes() []byte {
	ne := binary.NativeEndian
	var payload []byte
	switch d.msgType {
	case unix.NLMSG_ERROR, unix.NLMSG_DONE:
		payload = make([]byte, d.errorLength)
		if d.errorLength >= 4 {
			ne.PutUint32(payload, uint32(int32(d.errorCode)))
		}
	default:
		payload = make([]byte, inetDiagMsgLen+d.extraPayload)
		payload[0], payload[1] = d.family, d.state
		binary.BigEndian.PutUint16(payload[4:6], d.local.Port())
		binary.BigEndian.PutUint16(payload[6:8], d.remote.Port())
		if d.family == unix.AF_INET6 {
			a, b := d.local.Addr().As16(), d.remote.Addr().As16()
			copy(payload[8:24], a[:])
			copy(payload[24:40], b[:])
		} else if d.local.Addr().Is4() {
			a, b := d.local.Addr().As4(), d.remote.Addr().As4()
			copy(payload[8:12], a[:])
			copy(payload[24:28], b[:])
		}
		ne.PutUint32(payload[56:60], d.rqueue)
		ne.PutUint32(payload[60:64], d.wqueue)
		ne.PutUint32(payload[64:68], d.uid)
		ne.PutUint32(payload[68:72], d.inode)
		payload = payload[:len(payload)-d.truncate]
	}
	msgType := d.msgType
	if msgType == 0 {
		msgType = unix.SOCK_DIAG_BY_FAMILY
	}
	n := nlmsgHeaderLen + len(payload)
	b := make([]byte, nlmsgAlign(n))
	if d.overrideLen > 0 {
		n = d.overrideLen
	}
	ne.PutUint32(b[0:4], uint32(n))
	ne.PutUint16(b[4:6], msgType)
	ne.PutUint16(b[6:8], unix.NLM_F_MULTI)
	ne.PutUint32(b[8:12], d.seq)
	copy(b[nlmsgHeaderLen:], payload)
	return b
}

func diagJoin(msgs ...diagMsg) []byte {
	var b []byte
	for _, m := range msgs {
		b = append(b, m.bytes()...)
	}
	return b
}

var (
	diagV4Listen = diagMsg{family: unix.AF_INET, state: diagTCPListen, seq: 1,
		local: netip.MustParseAddrPort("127.0.0.1:8080"), remote: netip.MustParseAddrPort("0.0.0.0:0"),
		rqueue: 3, wqueue: 511, uid: 1000, inode: 4242}
	diagV4Est = diagMsg{family: unix.AF_INET, state: diagTCPEstablished, seq: 1,
		local: netip.MustParseAddrPort("10.0.0.5:8080"), remote: netip.MustParseAddrPort("10.0.0.9:51000"),
		rqueue: 7, wqueue: 9, uid: 0, inode: 77}
	diagV6Mapped = diagMsg{family: unix.AF_INET6, state: 8, seq: 1,
		local:  netip.AddrPortFrom(netip.MustParseAddr("::ffff:127.0.0.1"), 80),
		remote: netip.AddrPortFrom(netip.MustParseAddr("::ffff:127.0.0.1"), 40000), inode: 99}
	diagV6Unconn = diagMsg{family: unix.AF_INET6, state: diagTCPClose, seq: 1,
		local: netip.MustParseAddrPort("[fe80::1]:53"), remote: netip.MustParseAddrPort("[::]:0"),
		rqueue: 768, wqueue: 0, uid: 65534, inode: 5}
	diagDone = diagMsg{msgType: unix.NLMSG_DONE, seq: 1, errorLength: 4}
)

func TestParseInetDiag(t *testing.T) {
	cases := []struct {
		name     string
		in       []byte
		udp      bool
		want     []Socket
		done     bool
		errIs    error // nil: no error
		errMatch string
	}{
		{name: "empty datagram", in: nil},
		{name: "listener and established then done", in: diagJoin(diagV4Listen, diagV4Est, diagDone), done: true, want: []Socket{
			{Proto: "tcp", State: "LISTEN", Local: "127.0.0.1:8080", Remote: "0.0.0.0:0", RemoteIP: "0.0.0.0",
				LocalPort: 8080, RxQueue: 3, TxQueue: 0, Backlog: 511, UID: 1000, Inode: 4242},
			{Proto: "tcp", State: "ESTABLISHED", Local: "10.0.0.5:8080", Remote: "10.0.0.9:51000", RemoteIP: "10.0.0.9",
				LocalPort: 8080, RemotePort: 51000, RxQueue: 7, TxQueue: 9, Inode: 77},
		}},
		{name: "v4-mapped close-wait", in: diagJoin(diagV6Mapped), want: []Socket{
			{Proto: "tcp6", State: "CLOSE_WAIT", Local: "[::ffff:127.0.0.1]:80", Remote: "[::ffff:127.0.0.1]:40000",
				RemoteIP: "::ffff:127.0.0.1", LocalPort: 80, RemotePort: 40000, Inode: 99},
		}},
		{name: "udp6 unconnected", in: diagJoin(diagV6Unconn), udp: true, want: []Socket{
			{Proto: "udp6", State: "UNCONN", Local: "[fe80::1]:53", Remote: "[::]:0", RemoteIP: "::",
				LocalPort: 53, RxQueue: 768, UID: 65534, Inode: 5},
		}},
		{name: "udp listen number is not a backlog", in: diagJoin(diagMsg{family: unix.AF_INET, state: diagTCPListen, seq: 1,
			local: netip.MustParseAddrPort("1.2.3.4:1"), remote: netip.MustParseAddrPort("0.0.0.0:0"), wqueue: 5}), udp: true,
			want: []Socket{{Proto: "udp", State: "LISTEN", Local: "1.2.3.4:1", Remote: "0.0.0.0:0", RemoteIP: "0.0.0.0",
				LocalPort: 1, TxQueue: 5}}},
		{name: "unknown state number", in: diagJoin(diagMsg{family: unix.AF_INET, state: 0x2a, seq: 1,
			local: netip.MustParseAddrPort("1.2.3.4:1"), remote: netip.MustParseAddrPort("0.0.0.0:0")}),
			want: []Socket{{Proto: "tcp", State: "UNKNOWN_2A", Local: "1.2.3.4:1", Remote: "0.0.0.0:0", RemoteIP: "0.0.0.0", LocalPort: 1}}},
		{name: "attributes after the message are skipped", in: diagJoin(diagMsg{family: unix.AF_INET, state: 1, seq: 1, extraPayload: 20,
			local: netip.MustParseAddrPort("1.2.3.4:1"), remote: netip.MustParseAddrPort("5.6.7.8:2"), inode: 1}),
			want: []Socket{{Proto: "tcp", State: "ESTABLISHED", Local: "1.2.3.4:1", Remote: "5.6.7.8:2", RemoteIP: "5.6.7.8",
				LocalPort: 1, RemotePort: 2, Inode: 1}}},
		{name: "other sequence skipped", in: diagJoin(diagMsg{family: unix.AF_INET, seq: 2, state: 1}, diagDone), done: true},
		{name: "noop skipped", in: diagJoin(diagMsg{msgType: unix.NLMSG_NOOP, seq: 1, errorLength: 0}, diagDone), done: true},
		{name: "done without error field", in: diagJoin(diagMsg{msgType: unix.NLMSG_DONE, seq: 1}), done: true},
		{name: "ack is no error", in: diagJoin(diagMsg{msgType: unix.NLMSG_ERROR, seq: 1, errorLength: 20}, diagDone), done: true},
		{name: "done stops parsing", in: diagJoin(diagDone, diagMsg{family: 99, seq: 1}), done: true},
		{name: "done with error", in: diagJoin(diagMsg{msgType: unix.NLMSG_DONE, seq: 1, errorLength: 4, errorCode: -int(unix.ENOBUFS)}),
			done: true, errIs: unix.ENOBUFS},
		{name: "request refused", in: diagJoin(diagMsg{msgType: unix.NLMSG_ERROR, seq: 1, errorLength: 20, errorCode: -int(unix.ENOENT)}),
			done: true, errIs: unix.ENOENT},
		{name: "error message too short", in: diagJoin(diagMsg{msgType: unix.NLMSG_ERROR, seq: 1, errorLength: 2}),
			done: true, errIs: ErrMalformed},
		{name: "positive error", in: diagJoin(diagMsg{msgType: unix.NLMSG_ERROR, seq: 1, errorLength: 4, errorCode: 3}),
			done: true, errIs: ErrMalformed},
		{name: "header truncated", in: diagJoin(diagV4Est)[:10], errIs: ErrMalformed, errMatch: "truncated to 10"},
		{name: "length below header", in: diagJoin(diagMsg{family: unix.AF_INET, seq: 1, overrideLen: 8}), errIs: ErrMalformed},
		{name: "length beyond datagram", in: diagJoin(diagMsg{family: unix.AF_INET, seq: 1, overrideLen: 4096}), errIs: ErrMalformed},
		{name: "short inet_diag_msg", in: diagJoin(diagMsg{family: unix.AF_INET, seq: 1, truncate: 1}), errIs: ErrMalformed, errMatch: "71 bytes"},
		{name: "unknown family", in: diagJoin(diagMsg{family: unix.AF_UNIX, seq: 1}), errIs: ErrMalformed, errMatch: "family 1"},
		{name: "rows before a malformed one are kept", in: append(diagJoin(diagV4Est), 1, 2, 3), errIs: ErrMalformed, want: []Socket{
			{Proto: "tcp", State: "ESTABLISHED", Local: "10.0.0.5:8080", Remote: "10.0.0.9:51000", RemoteIP: "10.0.0.9",
				LocalPort: 8080, RemotePort: 51000, RxQueue: 7, TxQueue: 9, Inode: 77}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []Socket
			done, err := parseInetDiag(c.in, 1, c.udp, nil, func(s Socket) { got = append(got, s) })
			if c.errIs == nil && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if c.errIs != nil && !errors.Is(err, c.errIs) {
				t.Fatalf("error %v, want one wrapping %v", err, c.errIs)
			}
			if c.errMatch != "" && !strings.Contains(err.Error(), c.errMatch) {
				t.Errorf("error %q does not say %q", err, c.errMatch)
			}
			if done != c.done {
				t.Errorf("done = %v, want %v", done, c.done)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("rows:\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestParseInetDiagWantFilters(t *testing.T) {
	var got []uint64
	asked := 0
	_, err := parseInetDiag(diagJoin(diagV4Listen, diagV4Est, diagDone), 1, false,
		func(ino uint64) bool { asked++; return ino == 77 }, func(s Socket) { got = append(got, s.Inode) })
	if err != nil || asked != 2 || !slices.Equal(got, []uint64{77}) {
		t.Fatalf("err %v, asked %d, got %v; want nil, 2, [77]", err, asked, got)
	}
}

func TestEncodeInetDiagRequest(t *testing.T) {
	var b [nlmsgHeaderLen + inetDiagReqV2Len]byte
	for i := range b {
		b[i] = 0xff // every byte must be written
	}
	encodeInetDiagRequest(b[:], 7, unix.AF_INET6, unix.IPPROTO_UDP, 1<<8)
	ne := binary.NativeEndian
	if ne.Uint32(b[0:4]) != 72 || ne.Uint16(b[4:6]) != unix.SOCK_DIAG_BY_FAMILY ||
		ne.Uint16(b[6:8]) != unix.NLM_F_REQUEST|unix.NLM_F_DUMP || ne.Uint32(b[8:12]) != 7 || ne.Uint32(b[12:16]) != 0 {
		t.Fatalf("bad header % x", b[:16])
	}
	r := b[16:]
	if r[0] != unix.AF_INET6 || r[1] != unix.IPPROTO_UDP || r[2] != 0 || r[3] != 0 || ne.Uint32(r[4:8]) != 1<<8 {
		t.Fatalf("bad request % x", r[:8])
	}
	for i, v := range r[8:] {
		if v != 0 {
			t.Fatalf("sockid byte %d = %#x, want 0", i, v)
		}
	}
	if nlmsgHeaderLen != unix.SizeofNlMsghdr {
		t.Fatal("nlmsghdr size disagrees with golang.org/x/sys/unix")
	}
}

func TestFormatAddrPort(t *testing.T) {
	for _, s := range []string{"0.0.0.0:0", "127.0.0.1:8080", "255.255.255.255:65535", "[::]:0", "[::1]:443",
		"[::ffff:127.0.0.1]:80", "[fe80::1]:1", "[2001:db8:0:0:1:0:0:1]:9", "[1111:2222:3333:4444:5555:6666:7777:8888]:65535",
		"[::ffff:255.255.255.255]:65535", "[64:ff9b::1.2.3.4]:5"} {
		ap := netip.MustParseAddrPort(s)
		endpoint, ip := formatAddrPort(ap.Addr(), ap.Port())
		if endpoint != ap.String() || ip != ap.Addr().String() {
			t.Errorf("formatAddrPort(%s) = %q, %q; want %q, %q", s, endpoint, ip, ap.String(), ap.Addr().String())
		}
	}
}

func TestStateMask(t *testing.T) {
	m, err := InetDiagStates("CLOSE_WAIT", "LISTEN")
	if err != nil || m != 1<<8|1<<10 {
		t.Fatalf("InetDiagStates = %#x, %v", m, err)
	}
	if m, _ := InetDiagStates("UNCONN"); m != 1<<7 {
		t.Fatalf("UNCONN = %#x, want bit 7", m)
	}
	if _, err := InetDiagStates("ESTABLISHED", "SLEEPY"); err == nil || !strings.Contains(err.Error(), `"SLEEPY"`) {
		t.Fatalf("unknown state: err %v", err)
	}
	all, _ := InetDiagStates(diagTCPStateNames[1:]...)
	if all != InetDiagAllStates || InetDiagAllStates&(1<<diagTCPBoundInactive) != 0 || InetDiagAllStates&1 != 0 {
		t.Fatalf("InetDiagAllStates %#x, every name %#x", InetDiagAllStates, all)
	}
}

func TestDumpInetDiagArguments(t *testing.T) {
	if err := DumpInetDiag(unix.AF_UNIX, unix.IPPROTO_TCP, InetDiagAllStates, nil, func(Socket) {}); err == nil {
		t.Error("AF_UNIX accepted")
	}
	if err := DumpInetDiag(unix.AF_INET, unix.IPPROTO_SCTP, InetDiagAllStates, nil, func(Socket) {}); err == nil {
		t.Error("SCTP accepted")
	}
	called := false
	if err := DumpInetDiag(unix.AF_INET, unix.IPPROTO_TCP, 1<<diagTCPBoundInactive, nil, func(Socket) { called = true }); err != nil || called {
		t.Errorf("bound-inactive only: err %v, rows %v; want nothing asked", err, called)
	}
}

func FuzzParseInetDiag(f *testing.F) {
	f.Add(diagJoin(diagV4Listen, diagV4Est, diagDone), false)
	f.Add(diagJoin(diagV6Mapped, diagV6Unconn), true)
	f.Add(diagJoin(diagMsg{msgType: unix.NLMSG_ERROR, seq: 1, errorLength: 20, errorCode: -2}), false)
	f.Add(diagJoin(diagMsg{family: unix.AF_INET, seq: 1, truncate: 1}), false)
	f.Add(diagJoin(diagMsg{family: unix.AF_INET, seq: 1, overrideLen: 4096}), true)
	f.Add(diagJoin(diagV4Est)[:10], false)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, in []byte, udp bool) {
		rows := 0
		_, _ = parseInetDiag(in, 1, udp, nil, func(s Socket) {
			rows++
			switch s.Proto {
			case "tcp", "tcp6", "udp", "udp6":
			default:
				t.Fatalf("proto %q", s.Proto)
			}
			if udp != strings.HasPrefix(s.Proto, "udp") {
				t.Fatalf("proto %q for udp=%v", s.Proto, udp)
			}
			if s.State == "" || s.LocalPort < 0 || s.LocalPort > 65535 || s.RemotePort < 0 || s.RemotePort > 65535 {
				t.Fatalf("bad row %+v", s)
			}
			l, err := netip.ParseAddrPort(s.Local)
			if err != nil || int(l.Port()) != s.LocalPort {
				t.Fatalf("local %q does not parse back (%v)", s.Local, err)
			}
			r, err := netip.ParseAddrPort(s.Remote)
			if err != nil || int(r.Port()) != s.RemotePort || r.Addr().String() != s.RemoteIP {
				t.Fatalf("remote %q / %q does not parse back (%v)", s.Remote, s.RemoteIP, err)
			}
			if (s.Proto == "tcp" || s.Proto == "udp") != l.Addr().Is4() {
				t.Fatalf("proto %q with local %q", s.Proto, s.Local)
			}
			if s.Backlog != 0 && (s.State != "LISTEN" || udp || s.TxQueue != 0) {
				t.Fatalf("backlog on %+v", s)
			}
		})
		if rows > len(in)/(nlmsgHeaderLen+inetDiagMsgLen) {
			t.Fatalf("%d rows from %d bytes", rows, len(in))
		}
	})
}

// --- real sockets -------------------------------------------------------------------------

// nlOwnSocketInodes returns the inodes of the socket:[N] links in /proc/self/fd.
func nlOwnSocketInodes(t testing.TB) map[uint64]bool {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	inodes := map[uint64]bool{}
	for _, e := range entries {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil {
			continue // the fd of the directory listing itself, closed by now
		}
		if rest, ok := strings.CutPrefix(link, "socket:["); ok {
			ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
			if err != nil {
				t.Fatalf("fd link %q: %v", link, err)
			}
			inodes[ino] = true
		}
	}
	return inodes
}

// nlTables are the four tables a socket scan reads, as /proc names them.
var nlTables = []struct {
	name          string
	family, proto uint8
}{
	{"tcp", unix.AF_INET, unix.IPPROTO_TCP},
	{"tcp6", unix.AF_INET6, unix.IPPROTO_TCP},
	{"udp", unix.AF_INET, unix.IPPROTO_UDP},
	{"udp6", unix.AF_INET6, unix.IPPROTO_UDP},
}

// nlRows dumps every table through sock_diag, keeping the rows of inodes.
func nlRows(t testing.TB, states uint32, inodes map[uint64]bool) []Socket {
	t.Helper()
	var rows []Socket
	for _, tb := range nlTables {
		err := DumpInetDiag(tb.family, tb.proto, states, func(ino uint64) bool { return inodes[ino] },
			func(s Socket) { rows = append(rows, s) })
		if err != nil {
			t.Fatalf("DumpInetDiag %s: %v", tb.name, err)
		}
	}
	return rows
}

// nlProcRows parses every /proc/self/net table with the /proc path's parsers.
func nlProcRows(t testing.TB, inodes map[uint64]bool) []Socket {
	t.Helper()
	var rows []Socket
	for _, tb := range nlTables {
		f, err := os.Open("/proc/self/net/" + tb.name)
		if err != nil {
			t.Fatal(err)
		}
		err = nlParseProcTable(f, tb.name, func(ino uint64) bool { return inodes[ino] }, func(s Socket) { rows = append(rows, s) })
		f.Close()
		if err != nil {
			t.Fatalf("parse /proc/self/net/%s: %v", tb.name, err)
		}
	}
	return rows
}

// nlParseProcTable is the /proc path for one table.
func nlParseProcTable(r io.Reader, proto string, want func(uint64) bool, emit func(Socket)) error {
	return nlRefParseProcNet(r, proto, want, emit)
}

// nlRefParseProcNet is a small reference parser of /proc/net/{tcp,udp}{,6} used to check the
// netlink rows against the kernel's text.
func nlRefParseProcNet(r io.Reader, proto string, want func(uint64) bool, emit func(Socket)) error {
	sc := bufio.NewScanner(r)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			return fmt.Errorf("short row %q", sc.Text())
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return err
		}
		if !want(inode) {
			continue
		}
		local, err1 := nlRefParseHexAddr(f[1])
		remote, err2 := nlRefParseHexAddr(f[2])
		st, err3 := strconv.ParseUint(f[3], 16, 8)
		tx, rx, _ := strings.Cut(f[4], ":")
		txq, err4 := strconv.ParseUint(tx, 16, 64)
		rxq, err5 := strconv.ParseUint(rx, 16, 64)
		uid, err6 := strconv.Atoi(f[7])
		if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
			return fmt.Errorf("row %q: %w", sc.Text(), err)
		}
		emit(Socket{Proto: proto, State: diagStateName(uint8(st), strings.HasPrefix(proto, "udp")),
			Local: local.String(), Remote: remote.String(), RemoteIP: remote.Addr().String(),
			LocalPort: int(local.Port()), RemotePort: int(remote.Port()), RxQueue: rxq, TxQueue: txq, UID: uid, Inode: inode})
	}
	return sc.Err()
}

// nlRefParseHexAddr decodes "0100007F:1F90": 32-bit words in host byte order, then the port.
func nlRefParseHexAddr(s string) (netip.AddrPort, error) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if !ok || err != nil || (len(hexAddr) != 8 && len(hexAddr) != 32) {
		return netip.AddrPort{}, fmt.Errorf("address %q", s)
	}
	var raw [16]byte
	for i := 0; i < len(hexAddr)/8; i++ {
		w, err := strconv.ParseUint(hexAddr[i*8:i*8+8], 16, 32)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("address %q: %w", s, err)
		}
		binary.NativeEndian.PutUint32(raw[i*4:], uint32(w))
	}
	if len(hexAddr) == 8 {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(raw[:4])), uint16(port)), nil
	}
	return netip.AddrPortFrom(netip.AddrFrom16(raw), uint16(port)), nil
}

// nlSocketZoo opens one socket of every kind the comparison covers and closes them all when
// the test ends.
type nlSocketZoo struct {
	t           *testing.T
	closeWait   uint64 // inode of the server side of a connection its client closed
	rawListener uint64 // inode of a listener with backlog 7 and 3 connections nobody accepted
	mappedPort  int    // local port of an AF_INET6 client connected to ::ffff:127.0.0.1
}

func nlConnInode(t testing.TB, c syscall.Conn) uint64 {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	return st.Ino
}

func nlFDInode(t testing.TB, fd int) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func nlCloseLater(t testing.TB, c io.Closer) { t.Cleanup(func() { c.Close() }) }

func nlListen(t testing.TB, network, addr string) *net.TCPListener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	nlCloseLater(t, ln)
	return ln.(*net.TCPListener)
}

// nlConnectPair dials ln and accepts: both ends stay open until the test ends.
func nlConnectPair(t testing.TB, ln *net.TCPListener, network, addr string) (client, server *net.TCPConn) {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	nlCloseLater(t, c)
	s, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	nlCloseLater(t, s)
	return c.(*net.TCPConn), s
}

func newNLSocketZoo(t *testing.T) *nlSocketZoo {
	z := &nlSocketZoo{t: t}
	port := func(ln net.Listener) string { return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) }

	// IPv4: a listener, two connections, unread data on one server end.
	ln4 := nlListen(t, "tcp4", "127.0.0.1:0")
	c1, _ := nlConnectPair(t, ln4, "tcp4", ln4.Addr().String())
	nlConnectPair(t, ln4, "tcp4", ln4.Addr().String())
	if _, err := c1.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	// A full pipe: the server never reads, so the client's unsent bytes stay in its send
	// queue (write_seq - snd_una) and the server's receive queue stays full.
	fc, fs := nlConnectPair(t, ln4, "tcp4", ln4.Addr().String())
	_ = fs.SetReadBuffer(16 << 10)
	_ = fc.SetWriteBuffer(16 << 10)
	_ = fc.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	for {
		if _, err := fc.Write(make([]byte, 64<<10)); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			break
		}
	}
	// CLOSE_WAIT: the client closes, the server sees EOF and never closes.
	cc, cs := nlConnectPair(t, ln4, "tcp4", ln4.Addr().String())
	cc.Close()
	if _, err := cs.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after peer close: %v, want EOF", err)
	}
	z.closeWait = nlConnInode(t, cs)

	// IPv6 loopback.
	ln6 := nlListen(t, "tcp6", "[::1]:0")
	c6, _ := nlConnectPair(t, ln6, "tcp6", ln6.Addr().String())
	if _, err := c6.Write(make([]byte, 333)); err != nil {
		t.Fatal(err)
	}

	// A dual-stack listener on [::]: an IPv4 client's connection is accepted as tcp6 with
	// v4-mapped addresses.
	lnDual := nlListen(t, "tcp", "[::]:0")
	nlConnectPair(t, lnDual, "tcp4", "127.0.0.1:"+port(lnDual))
	// An AF_INET6 client socket connected to a v4-mapped address (to the IPv4 listener).
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	p4, _ := strconv.Atoi(port(ln4))
	if err := unix.Connect(fd, &unix.SockaddrInet6{Port: p4, Addr: netip.MustParseAddr("::ffff:127.0.0.1").As16()}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	z.mappedPort = sa.(*unix.SockaddrInet6).Port
	s, err := ln4.Accept()
	if err != nil {
		t.Fatal(err)
	}
	nlCloseLater(t, s)

	// A listener with backlog 7 and three connections waiting in its accept queue.
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(lfd) })
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(lfd, 7); err != nil {
		t.Fatal(err)
	}
	lsa, _ := unix.Getsockname(lfd)
	for range 3 {
		c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", lsa.(*unix.SockaddrInet4).Port))
		if err != nil {
			t.Fatal(err)
		}
		nlCloseLater(t, c)
	}
	z.rawListener = nlFDInode(t, lfd)

	// UDP: unconnected with unread datagrams, connected, and both over IPv6.
	u4, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	nlCloseLater(t, u4)
	uc4, err := net.DialUDP("udp4", nil, u4.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	nlCloseLater(t, uc4)
	for range 2 {
		if _, err := uc4.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
	}
	u6, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	nlCloseLater(t, u6)
	uc6, err := net.DialUDP("udp6", nil, u6.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	nlCloseLater(t, uc6)
	if _, err := uc6.Write([]byte("ping6")); err != nil {
		t.Fatal(err)
	}
	// A dual-stack UDP socket receiving from IPv4: listed in udp6.
	uDual, err := net.ListenUDP("udp", &net.UDPAddr{})
	if err != nil {
		t.Fatal(err)
	}
	nlCloseLater(t, uDual)
	return z
}

// nlSortRows orders rows by inode so two sources can be compared.
func nlSortRows(rows []Socket) {
	slices.SortFunc(rows, func(a, b Socket) int {
		if a.Inode != b.Inode {
			return int(int64(a.Inode) - int64(b.Inode))
		}
		return strings.Compare(a.Proto, b.Proto)
	})
}

// nlCompareSources reads both sources until they agree: queue counters settle a moment after
// loopback writes (the peer's ACK), so a few attempts are allowed before the difference is
// reported. It returns the netlink rows, Backlog included.
func nlCompareSources(t *testing.T, states uint32, inodes map[uint64]bool, keep func(Socket) bool) []Socket {
	t.Helper()
	var nl, proc []Socket
	for attempt := 0; attempt < 50; attempt++ {
		if attempt > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		nl, proc = nlRows(t, states, inodes), nlProcRows(t, inodes)
		proc = slices.DeleteFunc(proc, func(s Socket) bool { return !keep(s) })
		nlSortRows(nl)
		nlSortRows(proc)
		stripped := slices.Clone(nl)
		for i := range stripped {
			stripped[i].Backlog = 0 // the one field only netlink knows
		}
		if reflect.DeepEqual(stripped, proc) {
			return nl
		}
	}
	t.Errorf("netlink and /proc rows differ (%d and %d rows)", len(nl), len(proc))
	for i := 0; i < max(len(nl), len(proc)); i++ {
		var a, b Socket
		if i < len(nl) {
			a = nl[i]
			a.Backlog = 0
		}
		if i < len(proc) {
			b = proc[i]
		}
		if a != b {
			t.Errorf("row %d:\n netlink %+v\n   /proc %+v", i, a, b)
		}
	}
	return nl
}

func TestDumpInetDiagMatchesProc(t *testing.T) {
	z := newNLSocketZoo(t)
	inodes := nlOwnSocketInodes(t)
	rows := nlCompareSources(t, InetDiagAllStates, inodes, func(Socket) bool { return true })

	byInode := map[uint64]Socket{}
	for _, s := range rows {
		byInode[s.Inode] = s
	}
	if len(byInode) != len(inodes) {
		t.Errorf("%d rows for %d socket fds", len(byInode), len(inodes))
	}
	if s := byInode[z.closeWait]; s.State != "CLOSE_WAIT" || s.Proto != "tcp" {
		t.Errorf("close-wait socket: %+v", s)
	}
	if s := byInode[z.rawListener]; s.State != "LISTEN" || s.RxQueue != 3 || s.TxQueue != 0 || s.Backlog != 7 {
		t.Errorf("listener with 3 waiting of backlog 7: %+v", s)
	}
	// Every kind of row the zoo opened is there.
	has := func(desc string, match func(Socket) bool) {
		t.Helper()
		if !slices.ContainsFunc(rows, match) {
			t.Errorf("no row for %s in %+v", desc, rows)
		}
	}
	has("tcp established with 1000 bytes unread", func(s Socket) bool {
		return s.Proto == "tcp" && s.State == "ESTABLISHED" && s.RxQueue == 1000
	})
	has("tcp with a full send queue", func(s Socket) bool {
		return s.Proto == "tcp" && s.State == "ESTABLISHED" && s.TxQueue > 0
	})
	has("tcp6 on ::1 with 333 bytes unread", func(s Socket) bool {
		return s.Proto == "tcp6" && s.RxQueue == 333 && strings.HasPrefix(s.Local, "[::1]:") && s.RemoteIP == "::1"
	})
	has("tcp6 accepted from IPv4", func(s Socket) bool {
		return s.Proto == "tcp6" && s.State == "ESTABLISHED" && s.RemoteIP == "::ffff:127.0.0.1" && strings.HasPrefix(s.Local, "[::ffff:127.0.0.1]:")
	})
	has("AF_INET6 client to a v4-mapped address", func(s Socket) bool {
		return s.Proto == "tcp6" && s.LocalPort == z.mappedPort && s.Local == fmt.Sprintf("[::ffff:127.0.0.1]:%d", z.mappedPort)
	})
	has("dual-stack tcp listener", func(s Socket) bool {
		return s.Proto == "tcp6" && s.State == "LISTEN" && s.Remote == "[::]:0" && strings.HasPrefix(s.Local, "[::]:") && s.Backlog > 0
	})
	has("udp unconnected with unread datagrams", func(s Socket) bool {
		return s.Proto == "udp" && s.State == "UNCONN" && s.RxQueue > 0 && s.Remote == "0.0.0.0:0" && s.RemoteIP == "0.0.0.0"
	})
	has("udp connected", func(s Socket) bool { return s.Proto == "udp" && s.State == "ESTABLISHED" })
	has("udp6 connected", func(s Socket) bool { return s.Proto == "udp6" && s.State == "ESTABLISHED" && s.RemoteIP == "::1" })
	has("udp6 dual-stack", func(s Socket) bool { return s.Proto == "udp6" && s.State == "UNCONN" && s.Local != "" })
	for _, s := range rows {
		if s.UID != os.Getuid() {
			t.Errorf("uid %d, want %d: %+v", s.UID, os.Getuid(), s)
		}
	}
}

func TestDumpInetDiagStateFilter(t *testing.T) {
	z := newNLSocketZoo(t)
	inodes := nlOwnSocketInodes(t)
	closeWait, _ := InetDiagStates("CLOSE_WAIT")
	rows := nlCompareSources(t, closeWait, inodes, func(s Socket) bool { return s.State == "CLOSE_WAIT" })
	if len(rows) != 1 || rows[0].Inode != z.closeWait {
		t.Errorf("CLOSE_WAIT dump: %+v, want only inode %d", rows, z.closeWait)
	}
	listen, _ := InetDiagStates("LISTEN")
	rows = nlCompareSources(t, listen, inodes, func(s Socket) bool { return s.State == "LISTEN" })
	if len(rows) != 4 { // 127.0.0.1, ::1, [::], the backlog-7 one
		t.Errorf("LISTEN dump: %d rows, want 4: %+v", len(rows), rows)
	}
	unconn, _ := InetDiagStates("UNCONN")
	var udpRows []Socket
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if err := DumpInetDiag(fam, unix.IPPROTO_UDP, unconn, func(ino uint64) bool { return inodes[ino] },
			func(s Socket) { udpRows = append(udpRows, s) }); err != nil {
			t.Fatal(err)
		}
	}
	if len(udpRows) != 3 || slices.ContainsFunc(udpRows, func(s Socket) bool { return s.State != "UNCONN" }) {
		t.Errorf("UNCONN udp dump: %+v, want the 3 unconnected sockets", udpRows)
	}
}

// TestDumpInetDiagNamespaceWide checks that the dump, unfiltered, is the namespace's: it sees
// a socket held by another process.
func TestDumpInetDiagNamespaceWide(t *testing.T) {
	ln := nlListen(t, "tcp4", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	found := false
	err := DumpInetDiag(unix.AF_INET, unix.IPPROTO_TCP, InetDiagAllStates, nil, func(s Socket) {
		if s.State == "LISTEN" && s.LocalPort == port && s.Inode == nlConnInode(t, ln) {
			found = true
		}
	})
	if err != nil || !found {
		t.Fatalf("err %v, found own listener %v", err, found)
	}
}

// --- SameNetNS ----------------------------------------------------------------------------

func TestSameNetNS(t *testing.T) {
	proc := NewFS("")
	same, err := SameNetNS(proc, os.Getpid())
	if err != nil || !same {
		t.Fatalf("own pid: %v, %v; want true", same, err)
	}

	// A fake tree is never the kernel's, even with the right link text.
	ours, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	fake := t.TempDir()
	if err := os.MkdirAll(filepath.Join(fake, "42", "ns"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(ours, filepath.Join(fake, "42", "ns", "net")); err != nil {
		t.Fatal(err)
	}
	same, err = SameNetNS(NewFS(fake), 42)
	if err != nil || same {
		t.Fatalf("fake tree: %v, %v; want false, nil", same, err)
	}
	if _, err := SameNetNS(NewFS(filepath.Join(fake, "missing")), 42); err == nil || !IsGone(err) {
		t.Fatalf("missing root: %v, want a not-exist error", err)
	}

	// A pid that does not exist (beyond pid_max).
	if _, err := SameNetNS(proc, 1<<30); err == nil || !IsGone(err) {
		t.Fatalf("absent pid: %v, want a not-exist error", err)
	}

	// A child in a new network namespace.
	if os.Getuid() == 0 {
		if unshare, err := exec.LookPath("unshare"); err == nil {
			cmd := exec.Command(unshare, "--net", "sleep", "30")
			if err := cmd.Start(); err == nil {
				t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
				// unshare execs sleep once the namespace is made: wait for the link to change.
				var same bool
				var err error
				for range 200 {
					if same, err = SameNetNS(proc, cmd.Process.Pid); err == nil && !same {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				if err != nil || same {
					t.Errorf("process in another namespace: %v, %v; want false", same, err)
				}
			}
		}
	}
}

// TestSameNetNSDenied runs SameNetNS as an unprivileged user against a root process: the ns
// link needs ptrace access, so the answer is an error that IsDenied recognises.
func TestSameNetNSDenied(t *testing.T) {
	if pid := os.Getenv("NODEINSPECT_NETNS_DENIED_PID"); pid != "" {
		n, _ := strconv.Atoi(pid)
		same, err := SameNetNS(NewFS(""), n)
		fmt.Printf("result same=%v denied=%v err=%v\n", same, IsDenied(err), err)
		return
	}
	if os.Getuid() != 0 {
		t.Skip("needs root to run a child as another user")
	}
	target := exec.Command("sleep", "30")
	if err := target.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	t.Cleanup(func() { target.Process.Kill(); target.Wait() })

	// The test binary lives in a private build directory: copy it where nobody can run it.
	self, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	dir, err := os.MkdirTemp("", "nodeinspect-netns-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "probes.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Skip(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestSameNetNSDenied$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("NODEINSPECT_NETNS_DENIED_PID=%d", target.Process.Pid))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("cannot run as nobody: %v: %s", err, out)
	}
	t.Logf("child as nobody: %s", bytes.TrimSpace(out))
	if !strings.Contains(string(out), "result same=false denied=true err=read network namespace:") {
		t.Errorf("as nobody against a root process: %s", out)
	}
}

// --- benchmarks ---------------------------------------------------------------------------

// nlBenchPairs opens n loopback connections (2n sockets) and returns their inodes. Closing
// them with linger 0 leaves no TIME_WAIT behind to slow the next benchmark.
func nlBenchPairs(b *testing.B, n int) map[uint64]bool {
	b.Helper()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)
	}
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < uint64(2*n+100) {
		b.Skipf("RLIMIT_NOFILE %d is below the %d fds needed", lim.Cur, 2*n+100)
	}
	ln := nlListen(b, "tcp4", "127.0.0.1:0")
	inodes := make(map[uint64]bool, 2*n)
	for range n {
		c, s := nlConnectPair(b, ln, "tcp4", ln.Addr().String())
		for _, conn := range []*net.TCPConn{c, s} {
			_ = conn.SetLinger(0)
			inodes[nlConnInode(b, conn)] = true
		}
	}
	return inodes
}

const nlBenchConnections = 5000 // 10k sockets, half the hard RLIMIT_NOFILE of 20000

// BenchmarkDumpInetDiag times one sock_diag dump of the IPv4 TCP table holding 10k sockets
// of this process: "own" keeps every row (the cost of a target's own sockets), "foreign"
// keeps none (the cost of sockets held by other processes of the namespace).
func BenchmarkDumpInetDiag(b *testing.B) {
	inodes := nlBenchPairs(b, nlBenchConnections)
	for _, bc := range nlBenchCases(inodes) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rows := 0
				if err := DumpInetDiag(unix.AF_INET, unix.IPPROTO_TCP, InetDiagAllStates, bc.want, func(Socket) { rows++ }); err != nil {
					b.Fatal(err)
				}
				if rows != bc.rows {
					b.Fatalf("%d rows, want %d", rows, bc.rows)
				}
			}
		})
	}
}

// BenchmarkProcTCP times the same scan through /proc/self/net/tcp: open, read, parse.
func BenchmarkProcTCP(b *testing.B) {
	inodes := nlBenchPairs(b, nlBenchConnections)
	for _, bc := range nlBenchCases(inodes) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rows := 0
				f, err := os.Open("/proc/self/net/tcp")
				if err != nil {
					b.Fatal(err)
				}
				err = nlParseProcTable(f, "tcp", bc.want, func(Socket) { rows++ })
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				if rows != bc.rows {
					b.Fatalf("%d rows, want %d", rows, bc.rows)
				}
			}
		})
	}
}

type nlBenchCase struct {
	name string
	want func(uint64) bool
	rows int
}

func nlBenchCases(inodes map[uint64]bool) []nlBenchCase {
	return []nlBenchCase{
		{"own", func(ino uint64) bool { return inodes[ino] }, len(inodes)},
		{"foreign", func(uint64) bool { return false }, 0},
	}
}

// TestFDStatesSkipOnlyInodelessStates: the fd-join mask leaves out exactly TIME_WAIT and
// NEW_SYN_RECV, whose rows never have an inode.
func TestFDStatesSkipOnlyInodelessStates(t *testing.T) {
	skipped := InetDiagAllStates &^ InetDiagFDStates
	want, err := InetDiagStates("TIME_WAIT", "NEW_SYN_RECV")
	if err != nil || skipped != want {
		t.Fatalf("skipped mask %#x, want %#x (%v)", skipped, want, err)
	}
}
