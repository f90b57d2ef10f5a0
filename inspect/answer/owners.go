package answer

import (
	"context"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// Which JavaScript code owns each socket (--attach): joined to the fd table by fd number.

// applyOwners joins the target's answer to the fd table, by fd; a socket fd whose inode
// changed between the /proc read and the answer (closed and reused) is not joined.
func (col *Into) applyOwners(o *attach.Owners) {
	s := col.Snap
	if s.FDs == nil {
		return
	}
	byFD := map[int]attach.Owner{}
	for _, so := range o.Sockets {
		byFD[so.FD] = so
	}
	local := map[int]string{}
	for _, fd := range s.FDs.List {
		if fd.Socket != nil && fd.Socket.State == "LISTEN" {
			local[fd.FD] = fd.Socket.Local
		}
	}
	for i := range s.FDs.List {
		fd := &s.FDs.List[i]
		so, ok := byFD[fd.FD]
		if !ok || fd.Socket == nil {
			continue
		}
		owner := &model.SocketOwner{Role: so.Role, Agent: so.Agent, Upstream: so.Upstream, Idle: so.Idle}
		switch {
		case so.Server == "":
		case so.Role == "server" && local[fd.FD] != "":
			owner.Server = so.Server + " on " + local[fd.FD]
		case so.ServerFD != nil && local[*so.ServerFD] != "":
			owner.Server = so.Server + " on " + local[*so.ServerFD]
		default:
			owner.Server = so.Server + " on " + listenAddr(so.Listen)
		}
		if so.Request != nil {
			owner.Request = &model.OwnerRequest{Method: so.Request.Method, Path: so.Request.Path, AgeMS: so.Request.AgeMS}
		}
		fd.Owner = owner
	}
	col.ageArrivedRequests()
	if len(o.Errors) > 0 {
		col.Warn("attach: socket owners partly unknown: %s", strings.Join(o.Errors, "; "))
	}
}

// ageArrivedRequests gives the requests that arrived in full (no age from Node's parser)
// the kernel's time since data last arrived on their connection, as a lower bound of their
// age (OwnerRequest). It reads tcp_info through sock_diag, which only sees our own network
// namespace: elsewhere, or when the read fails, those ages stay unknown.
func (col *Into) ageArrivedRequests() {
	want := map[uint64]bool{}
	for _, fd := range col.Snap.FDs.List {
		if o := fd.Owner; o != nil && o.Request != nil && o.Request.AgeMS == nil && fd.Socket != nil {
			want[fd.Socket.Inode] = true
		}
	}
	if len(want) == 0 {
		return
	}
	queues := col.FS.TCPQueuesByInode(col.PID, want, col.Warn)
	unknown := 0
	for i := range col.Snap.FDs.List {
		fd := &col.Snap.FDs.List[i]
		if fd.Owner == nil || fd.Owner.Request == nil || fd.Owner.Request.AgeMS != nil || fd.Socket == nil {
			continue
		}
		if q, ok := queues[fd.Socket.Inode]; ok && q.LastDataRecvMS != nil {
			ms := int64(*q.LastDataRecvMS)
			fd.Owner.Request.AgeMS, fd.Owner.Request.AgeAtLeast = &ms, true
			continue
		}
		unknown++
	}
	if unknown > 0 {
		col.Warn("attach: the age of %d HTTP request(s) that arrived in full is unknown: Node keeps no start time once a request has arrived, and the kernel's time since its last byte (tcp_info, through sock_diag) could not be read for their connections (sock_diag sees nodeinspect's own network namespace only)", unknown)
	}
}

// listenAddr turns a server's connection key ("4:127.0.0.1:3000", "6::::3000", "-1:/path")
// into ":3000" for a wildcard bind, "127.0.0.1:3000" otherwise.
func listenAddr(key string) string {
	fam, rest, ok := strings.Cut(key, ":")
	if !ok {
		return key
	}
	if fam == "-1" {
		return rest
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return rest
	}
	host, port := rest[:i], rest[i+1:]
	switch host {
	case "", "::", "0.0.0.0":
		return ":" + port
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// askOwners asks the target who owns its sockets, when the fd table was read.
func (col *Into) AskOwners(ctx context.Context, conn *attach.Conn) {
	if col.Snap.FDs == nil {
		return
	}
	o, err := attach.SocketOwners(ctx, conn)
	if err != nil {
		col.Warn("attach: socket owners not read: %v", err)
		return
	}
	col.applyOwners(o)
}
