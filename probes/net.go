package probes

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// The socket tables of /proc/<pid>/net list every socket of the process's network
// namespace, which can be 100k rows that are not the target's. The parsers below stream them
// through one fixed buffer, split each row into byte-slice fields without allocating, read
// the inode column first and drop the row when want rejects it: only the rows kept pay for
// number parsing and address formatting (two strings per emitted inet row).
//
// Row errors. A row that does not parse is skipped and counted; the rows around it are
// still emitted, and the parse ends with one error wrapping ErrMalformed that gives the
// count and quotes the first bad row. A header line that is not the table's stops the parse
// at once (the file is not what we think it is). A last line without its newline is dropped
// without error: the kernel ends every row with '\n', so such a line is the cut end of a
// copy or of a read that stopped early, and may hold a truncated inode or path that would
// parse as a wrong value. An empty input is an empty table.

// tcpStates names the st column of net/tcp{,6} by number (include/net/tcp_states.h).
var tcpStates = [...]string{
	1:  "ESTABLISHED",
	2:  "SYN_SENT",
	3:  "SYN_RECV",
	4:  "FIN_WAIT1",
	5:  "FIN_WAIT2",
	6:  "TIME_WAIT",
	7:  "CLOSE",
	8:  "CLOSE_WAIT",
	9:  "LAST_ACK",
	10: "LISTEN",
	11: "CLOSING",
	12: "NEW_SYN_RECV",
}

// UDP sockets use two TCP state numbers in the st column of net/udp{,6}: TCP_ESTABLISHED for
// a connected socket and TCP_CLOSE for an unconnected one (net/ipv4/udp.c udp4_format_sock).
const (
	udpStateEstablished = 1
	udpStateUnconn      = 7
)

// unixStates names the St column of net/unix by number (socket_state of
// include/uapi/linux/net.h; 0, SS_FREE, is never listed).
var unixStates = [...]string{1: "UNCONNECTED", 2: "CONNECTING", 3: "CONNECTED", 4: "DISCONNECTING"}

// unixAcceptCon is __SO_ACCEPTCON (include/linux/net.h) in the Flags column of net/unix: the
// socket listens (net/unix/af_unix.c unix_seq_show prints it for a listening socket).
const unixAcceptCon = 1 << 16

// Columns of the tables (0-based, split on spaces). net/tcp{,6} and net/udp{,6}:
// "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode"
// then more columns (net/ipv4/tcp_ipv4.c get_tcp4_sock, net/ipv4/udp.c udp4_format_sock).
const (
	inetColLocal  = 1
	inetColRemote = 2
	inetColState  = 3
	inetColQueues = 4
	inetColTimer  = 5
	inetColUID    = 7
	inetColInode  = 9
)

// net/unix: "Num RefCount Protocol Flags Type St Inode [Path]" (net/unix/af_unix.c
// unix_seq_show); the path, when bound, is the rest of the line after the inode column.
const (
	unixColFlags = 3
	unixColState = 5
	unixColInode = 6
)

// net/netlink: "sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode"
// (net/netlink/af_netlink.c netlink_seq_show).
const netlinkColInode = 9

// lineBufferSize is the read buffer of the table parsers and so the longest row they accept:
// real rows are under 300 bytes (a unix path is at most 108), so a longer line is malformed.
const lineBufferSize = 64 << 10

// lineReader returns the lines of a reader from one fixed buffer, without allocating.
type lineReader struct {
	r          io.Reader
	buf        []byte
	start, end int
	eof        bool
	err        error
	skipping   bool // dropping the rest of an over-long line
	emptyReads int  // consecutive reads that returned nothing
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: r, buf: make([]byte, lineBufferSize)}
}

// next returns the next line without its '\n'. The slice is valid until the next call.
// terminated is false for a last line that has no newline, and for an over-long line (cut
// at the buffer size; the rest of it is dropped). ok is false at the end of the input or on a
// read error, which err then holds.
func (l *lineReader) next() (line []byte, terminated, ok bool) {
	for {
		if i := bytes.IndexByte(l.buf[l.start:l.end], '\n'); i >= 0 {
			line = l.buf[l.start : l.start+i]
			l.start += i + 1
			if l.skipping {
				l.skipping = false
				continue
			}
			return line, true, true
		}
		if l.eof {
			if l.start < l.end && !l.skipping {
				line = l.buf[l.start:l.end]
				l.start = l.end
				return line, false, true
			}
			return nil, false, false
		}
		if l.start == 0 && l.end == len(l.buf) {
			// A line longer than the buffer: hand out its head, drop the rest.
			l.start, l.end = 0, 0
			if l.skipping {
				continue
			}
			l.skipping = true
			return l.buf, false, true
		}
		if l.start > 0 {
			l.end = copy(l.buf, l.buf[l.start:l.end])
			l.start = 0
		}
		n, err := l.r.Read(l.buf[l.end:])
		l.end += n
		if n == 0 && err == nil {
			if l.emptyReads++; l.emptyReads >= 100 {
				err = io.ErrNoProgress
			}
		} else {
			l.emptyReads = 0
		}
		if err != nil {
			l.eof = true
			if err != io.EOF {
				l.err = err
			}
		}
	}
}

// tableParse drives one table: header check, blank and cut lines, the malformed-row count.
type tableParse struct {
	name     string // table name for errors: "tcp", "unix"...
	bad      int    // malformed rows skipped
	firstBad string // the first of them, quoted, with the reason
}

// malformed records a skipped row.
func (t *tableParse) malformed(line []byte, reason string) {
	if t.bad == 0 {
		t.firstBad = fmt.Sprintf("%q: %s", quote(line), reason)
	}
	t.bad++
}

// run feeds the rows of r after its header to row, which reports a malformed row with an
// error message ("" when the row is fine). header validates the first line.
func (t *tableParse) run(r io.Reader, header func(line []byte) bool, row func(line []byte) string) error {
	lr := newLineReader(r)
	first := true
	for {
		line, terminated, ok := lr.next()
		if !ok {
			break
		}
		if first {
			first = false
			if !header(line) {
				return fmt.Errorf("%s table header %q: %w", t.name, quote(line), ErrMalformed)
			}
			continue
		}
		if !terminated {
			if len(line) == len(lr.buf) {
				t.malformed(line, "row longer than 64 KiB")
			}
			// Otherwise the cut end of the table: dropped (see above).
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if reason := row(line); reason != "" {
			t.malformed(line, reason)
		}
	}
	var errs []error
	if lr.err != nil {
		errs = append(errs, fmt.Errorf("read %s table: %w", t.name, lr.err))
	}
	if t.bad > 0 {
		errs = append(errs, fmt.Errorf("%s table: %d malformed rows skipped, first %s: %w", t.name, t.bad, t.firstBad, ErrMalformed))
	}
	return errors.Join(errs...)
}

// ParseTCP streams a net/tcp or net/tcp6 table (proto is "tcp" or "tcp6", copied into
// Socket.Proto), calling emit for each row whose inode want accepts (nil accepts all).
// Rows want rejects cost a field split and an inode parse, nothing more. Malformed rows are
// skipped and reported in one error wrapping ErrMalformed after the other rows are emitted;
// a last line without newline is dropped; a wrong header fails the parse.
func ParseTCP(r io.Reader, proto string, want func(inode uint64) bool, emit func(Socket)) error {
	return parseInetTable(r, proto, false, want, emit)
}

// ParseUDP is ParseTCP for net/udp and net/udp6 (proto "udp" or "udp6"): state 07 is
// "UNCONN" and 01 "ESTABLISHED".
func ParseUDP(r io.Reader, proto string, want func(inode uint64) bool, emit func(Socket)) error {
	return parseInetTable(r, proto, true, want, emit)
}

func parseInetTable(r io.Reader, proto string, udp bool, want func(uint64) bool, emit func(Socket)) error {
	t := tableParse{name: proto}
	var fields [inetColInode + 1][]byte
	header := func(line []byte) bool { return bytes.Contains(line, []byte("local_address")) }
	return t.run(r, header, func(line []byte) string {
		if n := splitFields(line, fields[:]); n <= inetColInode {
			return fmt.Sprintf("%d columns, want at least %d", n, inetColInode+1)
		}
		inode, ok := parseDec(fields[inetColInode])
		if !ok {
			return "inode column"
		}
		if want != nil && !want(inode) {
			return ""
		}
		s, reason := inetRow(proto, udp, &fields)
		if reason != "" {
			return reason
		}
		s.Inode = inode
		emit(s)
		return ""
	})
}

// inetRow decodes the columns of a net/tcp or net/udp row other than the inode.
func inetRow(proto string, udp bool, f *[inetColInode + 1][]byte) (Socket, string) {
	s := Socket{Proto: proto}
	local, localPort, ok := parseHexAddrPort(f[inetColLocal])
	if !ok {
		return s, "local address"
	}
	remote, remotePort, ok := parseHexAddrPort(f[inetColRemote])
	if !ok {
		return s, "remote address"
	}
	if local.Is4() != remote.Is4() {
		return s, "local and remote address families differ"
	}
	st, ok := parseHex(f[inetColState], 2)
	if !ok {
		return s, "st column"
	}
	s.State = inetStateName(uint8(st), udp)
	tx, rx, ok := bytes.Cut(f[inetColQueues], []byte{':'})
	if !ok {
		return s, "tx_queue:rx_queue column"
	}
	if s.TxQueue, ok = parseHex(tx, 16); !ok {
		return s, "tx_queue column"
	}
	if s.RxQueue, ok = parseHex(rx, 16); !ok {
		return s, "rx_queue column"
	}
	if tr, _, ok := bytes.Cut(f[inetColTimer], []byte{':'}); ok {
		timer, ok := parseHex(tr, 2)
		s.ZeroWindowProbe = ok && timer == timerZeroWindowProbe && !udp
	}
	uid, ok := parseDec(f[inetColUID])
	if !ok || uid > 1<<32-1 {
		return s, "uid column"
	}
	s.UID = int(uid)
	s.LocalPort, s.RemotePort = int(localPort), int(remotePort)
	s.Local, _ = appendEndpoint(local, localPort)
	s.Remote, s.RemoteIP = appendEndpoint(remote, remotePort)
	return s, ""
}

// inetStateName names an st value: the TCP names, "UNCONN" for an unconnected UDP socket,
// and "UNKNOWN_XX" (hex, as in the column) for a number the kernel may add later.
func inetStateName(st uint8, udp bool) string {
	switch {
	case udp && st == udpStateUnconn:
		return "UNCONN"
	case udp && st == udpStateEstablished:
		return "ESTABLISHED"
	case int(st) < len(tcpStates) && tcpStates[st] != "":
		return tcpStates[st]
	}
	return fmt.Sprintf("UNKNOWN_%02X", st)
}

// parseHexAddrPort decodes "0100007F:1F90" (127.0.0.1:8080) or its 32-digit IPv6 form. The
// kernel prints each 32-bit word of the address as a number in host byte order ("%08X" of a
// __be32 read as u32), so each word is decoded and stored back in native order; the port
// is a plain 16-bit number.
func parseHexAddrPort(b []byte) (netip.Addr, uint16, bool) {
	addr, port, ok := bytes.Cut(b, []byte{':'})
	if !ok || (len(addr) != 8 && len(addr) != 32) || len(port) == 0 || len(port) > 4 {
		return netip.Addr{}, 0, false
	}
	var raw [16]byte
	for i := 0; i < len(addr); i += 8 {
		w, ok := parseHex(addr[i:i+8], 8)
		if !ok {
			return netip.Addr{}, 0, false
		}
		binary.NativeEndian.PutUint32(raw[i/2:], uint32(w))
	}
	p, ok := parseHex(port, 4)
	if !ok {
		return netip.Addr{}, 0, false
	}
	if len(addr) == 8 {
		return netip.AddrFrom4([4]byte(raw[:4])), uint16(p), true
	}
	return netip.AddrFrom16(raw), uint16(p), true
}

// appendEndpoint formats "ip:port" or "[ipv6]:port" (v4-mapped stays IPv6:
// "[::ffff:127.0.0.1]:80"), exactly as netip.AddrPort.String does, and returns the address
// alone as a substring, so both cost one allocation.
func appendEndpoint(addr netip.Addr, port uint16) (endpoint, ip string) {
	var scratch [64]byte // "[" + 45 bytes of IPv6 text + "]:" + 5 digits
	b := scratch[:0]
	v6 := !addr.Is4()
	if v6 {
		b = append(b, '[')
	}
	b = addr.AppendTo(b)
	end := len(b)
	if v6 {
		b = append(b, ']')
	}
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(port), 10)
	endpoint = string(b)
	if v6 {
		return endpoint, endpoint[1:end]
	}
	return endpoint, endpoint[:end]
}

// ParseUnix streams a net/unix table, calling emit for each row whose inode want accepts
// (nil accepts all). State is LISTEN when the Flags column has __SO_ACCEPTCON, else the St
// column's name; Local is the path (everything after the inode column, spaces included;
// "@name" for an abstract socket, whose NUL bytes the kernel prints as '@'), "" when unbound.
// Errors as for ParseTCP.
func ParseUnix(r io.Reader, want func(inode uint64) bool, emit func(Socket)) error {
	t := tableParse{name: "unix"}
	var fields [unixColInode + 1][]byte
	header := func(line []byte) bool {
		return bytes.HasPrefix(bytes.TrimLeft(line, " "), []byte("Num")) && bytes.Contains(line, []byte("Inode"))
	}
	return t.run(r, header, func(line []byte) string {
		if n := splitFields(line, fields[:]); n <= unixColInode {
			return fmt.Sprintf("%d columns, want at least %d", n, unixColInode+1)
		}
		inode, ok := parseDec(fields[unixColInode])
		if !ok {
			return "inode column"
		}
		if want != nil && !want(inode) {
			return ""
		}
		flags, ok := parseHex(fields[unixColFlags], 8)
		if !ok {
			return "flags column"
		}
		st, ok := parseHex(fields[unixColState], 2)
		if !ok {
			return "st column"
		}
		s := Socket{Proto: "unix", Inode: inode}
		switch {
		case flags&unixAcceptCon != 0:
			s.State = "LISTEN"
		case int(st) < len(unixStates) && unixStates[st] != "":
			s.State = unixStates[st]
		default:
			s.State = fmt.Sprintf("UNKNOWN_%02X", st)
		}
		// The fields are sub-slices of line: the inode column ends at this offset, and the
		// kernel puts exactly one space before the path.
		end := cap(line) - cap(fields[unixColInode]) + len(fields[unixColInode])
		if end+1 < len(line) {
			s.Local = string(line[end+1:])
		}
		emit(s)
		return ""
	})
}

// ParseNetlink streams a net/netlink table, calling emit for each row whose inode want
// accepts (nil accepts all): Proto "netlink" and the inode, no state or endpoints.
// Errors as for ParseTCP.
func ParseNetlink(r io.Reader, want func(inode uint64) bool, emit func(Socket)) error {
	t := tableParse{name: "netlink"}
	var fields [netlinkColInode + 1][]byte
	header := func(line []byte) bool {
		return bytes.HasPrefix(bytes.TrimLeft(line, " "), []byte("sk")) && bytes.Contains(line, []byte("Inode"))
	}
	return t.run(r, header, func(line []byte) string {
		if n := splitFields(line, fields[:]); n <= netlinkColInode {
			return fmt.Sprintf("%d columns, want at least %d", n, netlinkColInode+1)
		}
		inode, ok := parseDec(fields[netlinkColInode])
		if !ok {
			return "inode column"
		}
		if want == nil || want(inode) {
			emit(Socket{Proto: "netlink", Inode: inode})
		}
		return ""
	})
}

// splitFields splits line on spaces (and tabs) into dst, as sub-slices of line, and returns
// how many it filled; it stops when dst is full.
func splitFields(line []byte, dst [][]byte) int {
	n := 0
	for i := 0; i < len(line) && n < len(dst); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
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

// parseDec parses an unsigned decimal number; false on an empty field, a non-digit or
// overflow of uint64.
func parseDec(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseHex parses an unsigned hex number of 1 to maxDigits digits (either case).
func parseHex(b []byte, maxDigits int) (uint64, bool) {
	if len(b) == 0 || len(b) > maxDigits || maxDigits > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

// The protocols ReadSockets can be limited to; each selects its tables (ProtoTCP: tcp and
// tcp6, ProtoUDP: udp and udp6).
const (
	ProtoTCP     = "tcp"
	ProtoUDP     = "udp"
	ProtoUnix    = "unix"
	ProtoNetlink = "netlink"
)

// socketTable is one of the socket tables of /proc/<pid>/net and its parser; family and
// ipproto, when set, say which sock_diag dump gives the same rows.
type socketTable struct {
	name, proto     string
	family, ipproto uint8
	parse           func(r io.Reader, want func(uint64) bool, emit func(Socket)) error
}

// socketTables are the six tables, in the order their rows are returned: TCP and UDP
// (which sock_diag can replace), then unix and netlink (always read as text).
var socketTables = []socketTable{
	{"tcp", ProtoTCP, unix.AF_INET, unix.IPPROTO_TCP, func(r io.Reader, want func(uint64) bool, emit func(Socket)) error {
		return ParseTCP(r, "tcp", want, emit)
	}},
	{"tcp6", ProtoTCP, unix.AF_INET6, unix.IPPROTO_TCP, func(r io.Reader, want func(uint64) bool, emit func(Socket)) error {
		return ParseTCP(r, "tcp6", want, emit)
	}},
	{"udp", ProtoUDP, unix.AF_INET, unix.IPPROTO_UDP, func(r io.Reader, want func(uint64) bool, emit func(Socket)) error {
		return ParseUDP(r, "udp", want, emit)
	}},
	{"udp6", ProtoUDP, unix.AF_INET6, unix.IPPROTO_UDP, func(r io.Reader, want func(uint64) bool, emit func(Socket)) error {
		return ParseUDP(r, "udp6", want, emit)
	}},
	{"unix", ProtoUnix, 0, 0, ParseUnix},
	{"netlink", ProtoNetlink, 0, 0, ParseNetlink},
}

// selectTables is the socket tables of protos (all of them when protos is empty).
func selectTables(protos []string) []socketTable {
	if len(protos) == 0 {
		return socketTables
	}
	var out []socketTable
	for _, t := range socketTables {
		if slices.Contains(protos, t.proto) {
			out = append(out, t)
		}
	}
	return out
}

// readSocketTables reads tables as text, appending their rows to sockets.
func (p FS) readSocketTables(pid int, tables []socketTable, want func(uint64) bool, sockets []Socket) (_ []Socket, errs []error) {
	emit := func(s Socket) { sockets = append(sockets, s) }
	for _, t := range tables {
		if err := p.readSocketTable(pid, t, want, emit); err != nil {
			if IsGone(err) {
				// The process (so its net directory) is gone: one error, not six.
				return sockets, append(errs, err)
			}
			errs = append(errs, err)
		}
	}
	return sockets, errs
}

// readSocketTable opens and parses /proc/<pid>/net/<t.name>. A missing table is no error
// when the net directory exists (IPv6 disabled); when the directory is gone too, the error
// satisfies IsGone.
func (p FS) readSocketTable(pid int, t socketTable, want func(uint64) bool, emit func(Socket)) error {
	path := p.PidPath(pid, "net", t.name)
	f, err := os.Open(path)
	if err != nil {
		if IsGone(err) {
			if _, dirErr := os.Stat(p.PidPath(pid, "net")); dirErr != nil {
				return dirErr
			}
			return nil
		}
		return err // *fs.PathError: carries the path; IsDenied sees through it
	}
	defer f.Close()
	if err := t.parse(f, want, emit); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// SockDiagFallbackError is the note ReadSockets returns in errs when netlink sock_diag
// could not be used and the TCP and UDP rows were read from /proc/<pid>/net instead: the
// rows are complete, but what only sock_diag gives is unknown (ReadSockets: a listening
// socket's backlog size, Socket.Backlog; ReadTCPQueues: the byte counters). IsSockDiagFallback tells it from a table that failed.
type SockDiagFallbackError struct {
	// Dir is the net directory read instead (/proc/<pid>/net).
	Dir string
	// Err is why sock_diag failed.
	Err error
	// Lost is what the text tables lack ("" for ReadSockets: the listen backlog sizes).
	Lost string
}

func (e *SockDiagFallbackError) Error() string {
	lost := e.Lost
	if lost == "" {
		lost = "the listen backlog sizes"
	}
	return fmt.Sprintf("sock_diag (netlink) could not be used (%v): the TCP sockets were read from %s instead, without %s", e.Err, e.Dir, lost)
}

// Unwrap returns why sock_diag failed.
func (e *SockDiagFallbackError) Unwrap() error { return e.Err }

// IsSockDiagFallback reports whether err is ReadSockets' note that it read the text tables
// instead of sock_diag (SockDiagFallbackError): the rows are all there.
func IsSockDiagFallback(err error) bool {
	var fb *SockDiagFallbackError
	return errors.As(err, &fb)
}

// ReadSockets reads the sockets of pid's network namespace whose inode want accepts (nil
// accepts all), of protos only (ProtoTCP, ProtoUDP, ProtoUnix, ProtoNetlink; all when none
// is given). When the process shares our namespace, TCP and UDP come from netlink
// sock_diag (DumpInetDiag: no text to parse, and the listen backlog); otherwise, or when
// sock_diag fails, from /proc/<pid>/net (and errs then holds a SockDiagFallbackError saying
// so). unix and netlink sockets always come from /proc/<pid>/net. Both sources give
// identical rows. errs holds one error per table that could not be read; the rows of the
// others are returned.
func (p FS) ReadSockets(pid int, want func(uint64) bool, protos ...string) (sockets []Socket, errs []error) {
	tables := selectTables(protos)
	if same, err := SameNetNS(p, pid); err != nil || !same {
		return p.readSocketTables(pid, tables, want, nil)
	}
	emit := func(s Socket) { sockets = append(sockets, s) }
	var text []socketTable
	for _, t := range tables {
		if t.family == 0 {
			text = append(text, t)
			continue
		}
		if err := DumpInetDiag(t.family, t.ipproto, InetDiagFDStates, want, emit); err != nil {
			// sock_diag unavailable (module missing, seccomp): the text tables for all,
			// and a note saying so (the rows are the same, the backlog sizes are not).
			sockets, errs = p.readSocketTables(pid, tables, want, nil)
			return sockets, append(errs, &SockDiagFallbackError{Dir: p.PidPath(pid, "net"), Err: err})
		}
	}
	return p.readSocketTables(pid, text, want, sockets)
}
