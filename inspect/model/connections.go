package model

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

// listenerSet is the process's listening TCP sockets, by table (tcp or tcp6: an IPv4
// connection is never accepted by an IPv6-only table entry and the reverse) and port.
type listenerSet map[listenerKey][]netip.Addr

type listenerKey struct {
	proto string
	port  int
}

// NewListenerSet collects the LISTEN sockets of an fd table.
func NewListenerSet(fds []FD) listenerSet {
	l := listenerSet{}
	for _, fd := range fds {
		so := fd.Socket
		if so == nil || fd.Type != "tcp" || so.State != "LISTEN" {
			continue
		}
		addr, _ := netip.ParseAddr(HostOf(so.Local))
		k := listenerKey{so.Proto, PortOf(so.Local)}
		l[k] = append(l[k], addr)
	}
	return l
}

// Inbound reports whether a connection was accepted by one of the listeners: same table,
// same local port, and the listener bound to the connection's local address or to the
// wildcard address (0.0.0.0, ::). A process that closed its listener (server.close()
// with connections still open) has its accepted connections counted as outbound: nothing
// left in /proc tells them apart.
func (l listenerSet) Inbound(so *Socket) bool {
	addrs, ok := l[listenerKey{so.Proto, PortOf(so.Local)}]
	if !ok {
		return false
	}
	local, _ := netip.ParseAddr(HostOf(so.Local))
	for _, a := range addrs {
		if !a.IsValid() || a.IsUnspecified() || a == local {
			return true
		}
	}
	return false
}

// ConnGroup is the key of a group of connections: inbound ones by local port and remote
// host, outbound ones by remote host and port.
type ConnGroup struct {
	Direction string
	// Remote is the remote host (address without port).
	Remote string
	// Port is the local port for inbound groups and the remote port for outbound ones.
	Port int
}

// GroupOf returns the group of a connection.
func (l listenerSet) GroupOf(so *Socket) ConnGroup {
	if l.Inbound(so) {
		return ConnGroup{DirectionInbound, HostOf(so.Remote), PortOf(so.Local)}
	}
	return ConnGroup{DirectionOutbound, HostOf(so.Remote), PortOf(so.Remote)}
}

// Evidence is the group as finding evidence: peer, direction, and the port that is
// common to the group (local_port for inbound, remote_port for outbound); the other is
// null, since the connections of a group do not share it.
func (g ConnGroup) Evidence() evidence.Evidence {
	m := evidence.Evidence{"peer": evidence.Text(g.Remote), "direction": evidence.Text(g.Direction), "local_port": evidence.Null(), "remote_port": evidence.Null()}
	if g.Direction == DirectionInbound {
		m["local_port"] = evidence.Int(g.Port)
	} else {
		m["remote_port"] = evidence.Int(g.Port)
	}
	return m
}

// Phrase describes the group in a summary: "inbound from 10.0.0.5 on local port 8080",
// "outbound to 10.0.0.9:5432".
func (g ConnGroup) Phrase() string {
	if g.Direction == DirectionInbound {
		return "inbound from " + g.Remote + " on local port " + strconv.Itoa(g.Port)
	}
	return "outbound to " + JoinHostPort(g.Remote, g.Port)
}

// JoinHostPort writes "host:port", "[v6]:port" for IPv6.
func JoinHostPort(host string, port int) string {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// HostOf returns the address part of "ip:port" or "[ipv6]:port".
func HostOf(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return addr
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr[:i], "["), "]")
}

// PortOf returns the port of "ip:port", or 0.
func PortOf(addr string) int {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return 0
	}
	p, _ := strconv.Atoi(addr[i+1:])
	return p
}

// AppFrame is the innermost frame of the app's own code (not Node's node:internal
// modules), or the innermost frame when every frame is Node's.
func AppFrame(frames []Frame) Frame {
	for _, f := range frames {
		if !strings.HasPrefix(f.URL, "node:") {
			return f
		}
	}
	return frames[0]
}
