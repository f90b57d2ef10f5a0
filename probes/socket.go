package probes

// Socket is one row of a socket table of the target's network namespace, from
// /proc/<pid>/net/{tcp,tcp6,udp,udp6,unix,netlink} or from netlink sock_diag. Both sources
// fill it identically so the rest of the tool cannot tell them apart.
type Socket struct {
	// Proto is "tcp", "tcp6", "udp", "udp6", "unix" or "netlink".
	Proto string
	// State is the state name: for TCP one of ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1,
	// FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING, NEW_SYN_RECV
	// (include/net/tcp_states.h); for UDP "UNCONN" (kernel state 07) or "ESTABLISHED";
	// for unix LISTEN, UNCONNECTED, CONNECTING, CONNECTED or DISCONNECTING; "" for netlink.
	State string
	// Local and Remote are "ip:port", "[ipv6]:port" for IPv6; for unix Local is the bound
	// path ("@name" when abstract, "" when unbound) and Remote is "".
	Local  string
	Remote string
	// RemoteIP is the remote address without port ("" for unix/netlink), for grouping.
	RemoteIP string
	// LocalPort and RemotePort are the ports (0 for unix/netlink).
	LocalPort  int
	RemotePort int
	// RxQueue and TxQueue are the queue columns (for a LISTEN TCP socket RxQueue is the
	// number of connections waiting in the accept queue).
	RxQueue uint64
	TxQueue uint64
	// Backlog is the listen backlog size when known (netlink only), else 0.
	Backlog uint64
	// ZeroWindowProbe is true when the zero-window probe timer is pending on a TCP socket:
	// the peer advertises a zero receive window (it stopped reading). It is timer 4 in the
	// tr column of net/tcp (net/ipv4/tcp_ipv4.c get_tcp4_sock) and in idiag_timer of
	// inet_diag (net/ipv4/inet_diag.c inet_sk_diag_fill); the other timer values are not
	// kept, since the two sources report the keepalive timer differently.
	ZeroWindowProbe bool
	// UID is the owner uid column.
	UID int
	// Inode is the socket inode, the key that joins a row to the socket:[N] fd links.
	Inode uint64
}
