package inspect

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// Which JavaScript code owns each socket (--attach): joined to the fd table by fd number.

// applyOwners joins the target's answer to the fd table, by fd; a socket fd whose inode
// changed between the /proc read and the answer (closed and reused) is not joined.
func (col *collection) applyOwners(o *attach.Owners) {
	s := col.snap
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
		col.warn("attach: socket owners partly unknown: %s", strings.Join(o.Errors, "; "))
	}
}

// ageArrivedRequests gives the requests that arrived in full (no age from Node's parser)
// the kernel's time since data last arrived on their connection, as a lower bound of their
// age (OwnerRequest). It reads tcp_info through sock_diag, which only sees our own network
// namespace: elsewhere, or when the read fails, those ages stay unknown.
func (col *collection) ageArrivedRequests() {
	want := map[uint64]bool{}
	for _, fd := range col.snap.FDs.List {
		if o := fd.Owner; o != nil && o.Request != nil && o.Request.AgeMS == nil && fd.Socket != nil {
			want[fd.Socket.Inode] = true
		}
	}
	if len(want) == 0 {
		return
	}
	queues := readQueues(col.c.FS, col.pid, want, col.warn)
	unknown := 0
	for i := range col.snap.FDs.List {
		fd := &col.snap.FDs.List[i]
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
		col.warn("attach: the age of %d HTTP request(s) that arrived in full is unknown: Node keeps no start time once a request has arrived, and the kernel's time since its last byte (tcp_info, through sock_diag) could not be read for their connections (sock_diag sees nodeinspect's own network namespace only)", unknown)
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
func (col *collection) askOwners(ctx context.Context, conn *attach.Conn) {
	if col.snap.FDs == nil {
		return
	}
	o, err := attach.SocketOwners(ctx, conn)
	if err != nil {
		col.warn("attach: socket owners not read: %v", err)
		return
	}
	col.applyOwners(o)
}

// ownersSummary says who owns the sockets of fds (CLOSE_WAIT_LEAK, STALLED_SOCKETS): "38
// of 40 CLOSE_WAIT sockets were accepted by the http.Server on :3000; requests in flight:
// POST /upload (31), GET /health (7)". what names the sockets ("CLOSE_WAIT sockets"). It
// returns "" and nil when no owner is known, else the sentence and the evidence.
func ownersSummary(fds []model.FD, what string) (string, map[string]any) {
	total, known := len(fds), 0
	servers := map[string]int{}
	requests := map[string]int{}
	oldest := map[string]int64{}
	atLeast := map[string]bool{} // kinds whose oldest age is a lower bound
	upstreams := map[string]int{}
	for _, fd := range fds {
		o := fd.Owner
		if o == nil {
			continue
		}
		known++
		switch {
		case o.Role == "accepted" && o.Server != "":
			servers[o.Server]++
		case o.Upstream != "":
			upstreams[o.Upstream]++
		}
		if r := o.Request; r != nil {
			requests[r.String()]++
			if r.AgeMS != nil && *r.AgeMS > oldest[r.String()] {
				oldest[r.String()] = *r.AgeMS
				if r.AgeAtLeast {
					atLeast[r.String()] = true
				} else {
					delete(atLeast, r.String())
				}
			}
		}
	}
	if known == 0 {
		return "", nil
	}
	var parts []string
	if srv, n := top(servers); n > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d %s were accepted by the %s", n, total, what, srv))
	}
	if up, n := top(upstreams); n > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d %s are client sockets to %s", n, total, what, up))
	}
	if len(requests) > 0 {
		parts = append(parts, "requests in flight: "+requestsText(requests, oldest, atLeast, 5))
	}
	if len(parts) == 0 {
		return "", nil
	}
	ev := map[string]any{"owners_known": known, "servers": servers, "requests": requests, "upstreams": upstreams}
	if len(oldest) > 0 {
		// The age of the oldest request of each kind (ms): exact while it is still being
		// received, a lower bound (the time since it arrived in full) afterwards.
		ev["requests_oldest_ms"] = oldest
	}
	return strings.Join(parts, "; "), ev
}

// top is the key with the highest count (ties: alphabetical).
func top(m map[string]int) (string, int) {
	best, n := "", 0
	for k, v := range m {
		if v > n || (v == n && k < best) {
			best, n = k, v
		}
	}
	return best, n
}

// countsText is "POST /upload (31), GET /health (7)", highest first, at most max entries.
func countsText(m map[string]int, max int) string { return requestsText(m, nil, nil, max) }

// requestsText is countsText with the age of the oldest of each where known: "POST
// /upload (31, oldest 42 s), GET /health (7)"; "oldest ≥ 42 s" for a lower bound (atLeast).
func requestsText(m map[string]int, oldest map[string]int64, atLeast map[string]bool, max int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for i, k := range keys {
		if i == max {
			parts = append(parts, "and "+strconv.Itoa(len(keys)-max)+" more")
			break
		}
		if age, ok := oldest[k]; ok {
			bound := ""
			if atLeast[k] {
				bound = "≥ "
			}
			parts = append(parts, fmt.Sprintf("%s (%d, oldest %s%s)", k, m[k], bound, model.AgeWords(age)))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
