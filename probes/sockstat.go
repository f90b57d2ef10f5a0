package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// SockStat is the socket counts of a network namespace, from /proc/<pid>/net/sockstat and
// sockstat6.
type SockStat struct {
	// TCP counts the namespace's TCP sockets, IPv4 and IPv6, that a dump for the fd join
	// returns: "inuse" (every state but TIME_WAIT, which InetDiagFDStates leaves out).
	TCP int
}

// ParseSockStat adds the TCP counts of one sockstat file to s ("TCP: inuse 5 orphan 0 tw 0
// alloc 7 mem 1", "TCP6: inuse 2"; net/ipv4/proc.c sockstat_seq_show).
func ParseSockStat(r io.Reader, s *SockStat) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, rest, ok := bytes.Cut(sc.Bytes(), []byte(": "))
		if !ok || (string(name) != "TCP" && string(name) != "TCP6") {
			continue
		}
		fields := bytes.Fields(rest)
		for i := 0; i+1 < len(fields); i += 2 {
			key := string(fields[i])
			if key != "inuse" {
				continue
			}
			v, err := strconv.Atoi(string(fields[i+1]))
			if err != nil || v < 0 || v > 1<<40 { // no namespace holds 2^40 sockets
				return fmt.Errorf("%s %s %q: %w", name, key, fields[i+1], ErrMalformed)
			}
			s.TCP += v
		}
	}
	return sc.Err()
}

// ReadSockStat reads the TCP socket count of pid's network namespace. A missing sockstat6
// (IPv6 disabled) counts as none.
func (p FS) ReadSockStat(pid int) (SockStat, error) {
	var s SockStat
	for _, name := range []string{"sockstat", "sockstat6"} {
		data, err := ReadFile(p.PidPath(pid, "net", name))
		if err != nil {
			if name == "sockstat6" && IsGone(err) {
				continue
			}
			return s, err
		}
		if err := ParseSockStat(bytes.NewReader(data), &s); err != nil {
			return s, fmt.Errorf("%s: %w", p.PidPath(pid, "net", name), err)
		}
	}
	return s, nil
}
