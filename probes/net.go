package probes

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// tcpStates names the st column of net/tcp (include/net/tcp_states.h).
var tcpStates = [...]string{1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
	6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING", 12: "NEW_SYN_RECV"}

// unixStates names the St column of net/unix (include/uapi/linux/net.h socket_state).
var unixStates = [...]string{0: "FREE", 1: "UNCONNECTED", 2: "CONNECTING", 3: "CONNECTED", 4: "DISCONNECTING"}

// soAcceptCon is __SO_ACCEPTCON in the Flags column: the socket listens.
const soAcceptCon = 0x10000

// ParseTCP streams a net/tcp or net/tcp6 table, emitting the rows whose inode want accepts
// (nil accepts all). The inode is checked before any address is formatted. A malformed row
// stops the parse with an error quoting it; a truncated last line (the table changed while
// read) is skipped.
func ParseTCP(r io.Reader, proto string, want func(inode uint64) bool, emit func(Socket)) error {
	return parseInetTable(r, proto, false, want, emit)
}

// ParseUDP is ParseTCP for net/udp and net/udp6 (state 07 is "UNCONN").
func ParseUDP(r io.Reader, proto string, want func(inode uint64) bool, emit func(Socket)) error {
	return parseInetTable(r, proto, true, want, emit)
}

func parseInetTable(r io.Reader, proto string, udp bool, want func(uint64) bool, emit func(Socket)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var fields [17][]byte
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		if first {
			first = false
			if !bytes.Contains(line, []byte("local_address")) {
				return fmt.Errorf("%s table header %q: %w", proto, quote(line), ErrMalformed)
			}
			continue
		}
		n := splitFields(line, fields[:])
		if n == 0 {
			continue
		}
		if n < 10 {
			if !sc.Scan() {
				return nil // truncated last line
			}
			return fmt.Errorf("%s row %q: %d fields: %w", proto, quote(line), n, ErrMalformed)
		}
		inode, err := strconv.ParseUint(string(fields[9]), 10, 64)
		if err != nil {
			return fmt.Errorf("%s row %q: inode: %w", proto, quote(line), ErrMalformed)
		}
		if want != nil && !want(inode) {
			continue
		}
		s, err := inetRow(proto, udp, fields[:n], inode)
		if err != nil {
			return fmt.Errorf("%s row %q: %v: %w", proto, quote(line), err, ErrMalformed)
		}
		emit(s)
	}
	return sc.Err()
}

// splitFields splits on spaces into dst without allocating; it returns the count.
func splitFields(line []byte, dst [][]byte) int {
	n := 0
	for i := 0; i < len(line) && n < len(dst); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		if j > i {
			dst[n] = line[i:j]
			n++
		}
		i = j
	}
	return n
}

func inetRow(proto string, udp bool, f [][]byte, inode uint64) (Socket, error) {
	s := Socket{Proto: proto, Inode: inode}
	var err error
	var localIP netip.Addr
	if localIP, s.LocalPort, err = parseHexAddr(f[1]); err != nil {
		return s, err
	}
	var remoteIP netip.Addr
	if remoteIP, s.RemotePort, err = parseHexAddr(f[2]); err != nil {
		return s, err
	}
	s.Local = netip.AddrPortFrom(localIP, uint16(s.LocalPort)).String()
	s.Remote = netip.AddrPortFrom(remoteIP, uint16(s.RemotePort)).String()
	s.RemoteIP = remoteIP.String()
	st, err := strconv.ParseUint(string(f[3]), 16, 8)
	if err != nil {
		return s, fmt.Errorf("state %q", f[3])
	}
	switch {
	case udp && st == 7:
		s.State = "UNCONN"
	case udp && st == 1:
		s.State = "ESTABLISHED"
	case int(st) < len(tcpStates) && tcpStates[st] != "":
		s.State = tcpStates[st]
	default:
		s.State = fmt.Sprintf("UNKNOWN_%02X", st)
	}
	tx, rx, ok := bytes.Cut(f[4], []byte{':'})
	if !ok {
		return s, fmt.Errorf("queues %q", f[4])
	}
	if s.TxQueue, err = strconv.ParseUint(string(tx), 16, 64); err != nil {
		return s, fmt.Errorf("tx_queue %q", tx)
	}
	if s.RxQueue, err = strconv.ParseUint(string(rx), 16, 64); err != nil {
		return s, fmt.Errorf("rx_queue %q", rx)
	}
	uid, err := strconv.Atoi(string(f[7]))
	if err != nil {
		return s, fmt.Errorf("uid %q", f[7])
	}
	s.UID = uid
	return s, nil
}

// parseHexAddr decodes "0100007F:1F90": each 32-bit word in host byte order, then the port.
func parseHexAddr(b []byte) (netip.Addr, int, error) {
	addr, port, ok := bytes.Cut(b, []byte{':'})
	if !ok || (len(addr) != 8 && len(addr) != 32) {
		return netip.Addr{}, 0, fmt.Errorf("address %q", b)
	}
	var raw [16]byte
	if _, err := hex.Decode(raw[:len(addr)/2], addr); err != nil {
		return netip.Addr{}, 0, fmt.Errorf("address %q", b)
	}
	for i := 0; i < len(addr)/2; i += 4 {
		binary.BigEndian.PutUint32(raw[i:], binary.LittleEndian.Uint32(raw[i:i+4]))
	}
	p, err := strconv.ParseUint(string(port), 16, 16)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("port %q", port)
	}
	if len(addr) == 8 {
		return netip.AddrFrom4([4]byte(raw[:4])), int(p), nil
	}
	return netip.AddrFrom16(raw), int(p), nil
}

// ParseUnix streams net/unix: Num RefCount Protocol Flags Type St Inode [Path].
func ParseUnix(r io.Reader, want func(inode uint64) bool, emit func(Socket)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var f [7][]byte
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		if first {
			first = false
			if !bytes.HasPrefix(line, []byte("Num")) {
				return fmt.Errorf("unix table header %q: %w", quote(line), ErrMalformed)
			}
			continue
		}
		n := splitFields(line, f[:])
		if n == 0 {
			continue
		}
		if n < 7 {
			if !sc.Scan() {
				return nil
			}
			return fmt.Errorf("unix row %q: %w", quote(line), ErrMalformed)
		}
		inode, err := strconv.ParseUint(string(f[6]), 10, 64)
		if err != nil {
			return fmt.Errorf("unix row %q: inode: %w", quote(line), ErrMalformed)
		}
		if want != nil && !want(inode) {
			continue
		}
		flags, err1 := strconv.ParseUint(string(f[3]), 16, 32)
		st, err2 := strconv.ParseUint(string(f[5]), 16, 8)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("unix row %q: %w", quote(line), ErrMalformed)
		}
		s := Socket{Proto: "unix", Inode: inode}
		if int(st) < len(unixStates) {
			s.State = unixStates[st]
		} else {
			s.State = fmt.Sprintf("UNKNOWN_%02X", st)
		}
		if flags&soAcceptCon != 0 {
			s.State = "LISTEN"
		}
		// The path is everything after the inode column, the 7th field (it may contain
		// spaces); the fields are sub-slices of line, so their end is an offset in it.
		end := cap(line) - cap(f[6]) + len(f[6])
		if end < len(line) && line[end] == ' ' {
			s.Local = string(line[end+1:])
		}
		emit(s)
	}
	return sc.Err()
}

// ParseNetlink streams net/netlink: sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode.
func ParseNetlink(r io.Reader, want func(inode uint64) bool, emit func(Socket)) error {
	sc := bufio.NewScanner(r)
	var f [10][]byte
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		if first {
			first = false
			if !bytes.HasPrefix(line, []byte("sk")) {
				return fmt.Errorf("netlink table header %q: %w", quote(line), ErrMalformed)
			}
			continue
		}
		n := splitFields(line, f[:])
		if n == 0 {
			continue
		}
		if n < 10 {
			if !sc.Scan() {
				return nil
			}
			return fmt.Errorf("netlink row %q: %w", quote(line), ErrMalformed)
		}
		inode, err := strconv.ParseUint(string(f[9]), 10, 64)
		if err != nil {
			return fmt.Errorf("netlink row %q: inode: %w", quote(line), ErrMalformed)
		}
		if want != nil && !want(inode) {
			continue
		}
		emit(Socket{Proto: "netlink", Inode: inode})
	}
	return sc.Err()
}

// ReadSocketsProc reads the six socket tables of pid's network namespace from
// /proc/<pid>/net. A table that does not exist (IPv6 disabled) is skipped; other failures
// are returned per table.
func (p FS) ReadSocketsProc(pid int, want func(uint64) bool) ([]Socket, []error) {
	var out []Socket
	var errs []error
	emit := func(s Socket) { out = append(out, s) }
	tables := []struct {
		name  string
		parse func(io.Reader) error
	}{
		{"tcp", func(r io.Reader) error { return ParseTCP(r, "tcp", want, emit) }},
		{"tcp6", func(r io.Reader) error { return ParseTCP(r, "tcp6", want, emit) }},
		{"udp", func(r io.Reader) error { return ParseUDP(r, "udp", want, emit) }},
		{"udp6", func(r io.Reader) error { return ParseUDP(r, "udp6", want, emit) }},
		{"unix", func(r io.Reader) error { return ParseUnix(r, want, emit) }},
		{"netlink", func(r io.Reader) error { return ParseNetlink(r, want, emit) }},
	}
	for _, t := range tables {
		if err := p.parseTable(pid, t.name, t.parse); err != nil {
			errs = append(errs, err)
		}
	}
	return out, errs
}

func (p FS) parseTable(pid int, name string, parse func(io.Reader) error) error {
	path := p.PidPath(pid, "net", name)
	f, err := os.Open(path)
	if err != nil {
		if IsGone(err) {
			return nil
		}
		return err
	}
	defer f.Close()
	if err := parse(bufio.NewReaderSize(f, 64<<10)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ReadSockets reads the sockets of pid's network namespace that want accepts. When the
// process shares our namespace, TCP and UDP come from netlink sock_diag (no text to parse);
// otherwise, and for unix and netlink sockets, from /proc/<pid>/net. Both give identical rows.
func (p FS) ReadSockets(pid int, want func(uint64) bool) ([]Socket, []error) {
	same, err := SameNetNS(p, pid)
	if err != nil || !same {
		return p.ReadSocketsProc(pid, want)
	}
	var out []Socket
	var errs []error
	emit := func(s Socket) { out = append(out, s) }
	for _, q := range []struct{ family, proto uint8 }{
		{unix.AF_INET, unix.IPPROTO_TCP}, {unix.AF_INET6, unix.IPPROTO_TCP},
		{unix.AF_INET, unix.IPPROTO_UDP}, {unix.AF_INET6, unix.IPPROTO_UDP},
	} {
		if err := DumpInetDiag(q.family, q.proto, InetDiagAllStates, want, emit); err != nil {
			// Fall back to the text tables for everything.
			return p.ReadSocketsProc(pid, want)
		}
	}
	for _, t := range []struct {
		name  string
		parse func(io.Reader) error
	}{
		{"unix", func(r io.Reader) error { return ParseUnix(r, want, emit) }},
		{"netlink", func(r io.Reader) error { return ParseNetlink(r, want, emit) }},
	} {
		if err := p.parseTable(pid, t.name, t.parse); err != nil {
			errs = append(errs, err)
		}
	}
	return out, errs
}
