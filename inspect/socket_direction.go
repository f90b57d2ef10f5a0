package inspect

import (
	"net/netip"
	"strconv"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// Connections are grouped by direction, so that a group names what the connections have
// in common. An inbound connection (accepted by one of the process's listening sockets)
// shares its local port with the listener and comes from a client's random port: it is
// grouped by local port and client host. An outbound connection (opened by the process)
// has a random local port and goes to a server's fixed port: it is grouped by that remote
// host and port. Grouping outbound connections by local port would make one group per
// connection and hide the upstream that leaks.

// listenerSet is the process's listening TCP sockets, by table (tcp or tcp6: an IPv4
// connection is never accepted by an IPv6-only table entry and the reverse) and port.
type listenerSet map[listenerKey][]netip.Addr

type listenerKey struct {
	proto string
	port  int
}

// newListenerSet collects the LISTEN sockets of an fd table.
func newListenerSet(fds []model.FD) listenerSet {
	l := listenerSet{}
	for _, fd := range fds {
		so := fd.Socket
		if so == nil || fd.Type != "tcp" || so.State != "LISTEN" {
			continue
		}
		addr, _ := netip.ParseAddr(hostOf(so.Local))
		k := listenerKey{so.Proto, portOf(so.Local)}
		l[k] = append(l[k], addr)
	}
	return l
}

// inbound reports whether a connection was accepted by one of the listeners: same table,
// same local port, and the listener bound to the connection's local address or to the
// wildcard address (0.0.0.0, ::). A process that closed its listener (server.close()
// with connections still open) has its accepted connections counted as outbound: nothing
// left in /proc tells them apart.
func (l listenerSet) inbound(so *model.Socket) bool {
	addrs, ok := l[listenerKey{so.Proto, portOf(so.Local)}]
	if !ok {
		return false
	}
	local, _ := netip.ParseAddr(hostOf(so.Local))
	for _, a := range addrs {
		if !a.IsValid() || a.IsUnspecified() || a == local {
			return true
		}
	}
	return false
}

// connGroup is the key of a group of connections: inbound ones by local port and remote
// host, outbound ones by remote host and port.
type connGroup struct {
	Direction string
	// Remote is the remote host (address without port).
	Remote string
	// Port is the local port for inbound groups and the remote port for outbound ones.
	Port int
}

// groupOf returns the group of a connection.
func (l listenerSet) groupOf(so *model.Socket) connGroup {
	if l.inbound(so) {
		return connGroup{model.DirectionInbound, hostOf(so.Remote), portOf(so.Local)}
	}
	return connGroup{model.DirectionOutbound, hostOf(so.Remote), portOf(so.Remote)}
}

// evidence is the group as finding evidence: peer, direction, and the port that is
// common to the group (local_port for inbound, remote_port for outbound); the other is
// null, since the connections of a group do not share it.
func (g connGroup) evidence() map[string]any {
	m := map[string]any{"peer": g.Remote, "direction": g.Direction, "local_port": nil, "remote_port": nil}
	if g.Direction == model.DirectionInbound {
		m["local_port"] = g.Port
	} else {
		m["remote_port"] = g.Port
	}
	return m
}

// phrase describes the group in a summary: "inbound from 10.0.0.5 on local port 8080",
// "outbound to 10.0.0.9:5432".
func (g connGroup) phrase() string {
	if g.Direction == model.DirectionInbound {
		return "inbound from " + g.Remote + " on local port " + strconv.Itoa(g.Port)
	}
	return "outbound to " + joinHostPort(g.Remote, g.Port)
}

// joinHostPort writes "host:port", "[v6]:port" for IPv6.
func joinHostPort(host string, port int) string {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// lessGroup orders groups by count, largest first, then by key.
func lessGroup(counts map[connGroup]int) func(a, b connGroup) bool {
	return func(a, b connGroup) bool {
		if counts[a] != counts[b] {
			return counts[a] > counts[b]
		}
		if a.Direction != b.Direction {
			return a.Direction < b.Direction
		}
		if a.Remote != b.Remote {
			return a.Remote < b.Remote
		}
		return a.Port < b.Port
	}
}

// markCut records in evidence that a list was cut: "<name>_total" holds the full count
// and "truncated" is true. Nothing is added for a list that was not cut.
func markCut(ev map[string]any, name string, total, listed int) {
	if total > listed {
		ev[name+"_total"] = total
		ev["truncated"] = true
	}
}

// cutEvidence is markCut that returns the evidence, for a finding built in one expression.
func cutEvidence(ev map[string]any, name string, total, listed int) map[string]any {
	markCut(ev, name, total, listed)
	return ev
}
