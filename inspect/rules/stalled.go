package rules

import (
	"fmt"
	"sort"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/internal/units"
	"github.com/nodeinspect/nodeinspect/probes"
)

// QueueWindow is two reads of the queues of a process's TCP connections, by inode: Start
// right after the fd table was joined with the socket tables, End at the end of the sample
// window, Elapsed apart. Only connections with data in a queue at the join are read.
type QueueWindow struct {
	Start, End map[uint64]probes.TCPQueue
	Elapsed    time.Duration
}

// receiveStalled reports whether a connection's receive queue did not drain between two
// reads: data waited at both, and the process read none of it in between.
//
// With the byte counters of sock_diag (the process shares our network namespace) this is
// exact: the bytes the process has read are tcpi_bytes_received minus the receive queue, and
// they did not move. A busy healthy server whose queues hold a new request at each read has
// read the old one in between, so it is not counted, however often its queues are caught
// non-empty.
//
// Without the counters (/proc tables of another namespace) only a connection in CLOSE_WAIT at
// both reads is decided: after the peer's FIN no data can arrive, so a receive queue that
// kept exactly its size was not read at all. An ESTABLISHED queue that is non-empty at both
// reads may hold a new request each time, so it is not called stalled on queues alone.
func receiveStalled(a, b probes.TCPQueue) bool {
	if ReceivedData(a) == 0 || ReceivedData(b) == 0 {
		return false
	}
	if a.BytesReceived != nil && b.BytesReceived != nil {
		// read(a) == read(b), where read = received − queued; written without a
		// subtraction that could wrap.
		return *a.BytesReceived+b.RxQueue == *b.BytesReceived+a.RxQueue
	}
	return a.State == "CLOSE_WAIT" && b.State == "CLOSE_WAIT" && a.RxQueue == b.RxQueue
}

// ReceivedData is the data waiting in a receive queue. Once the peer's FIN has arrived
// (CLOSE_WAIT, LAST_ACK, CLOSING) the queue counts it as one byte until the process reads
// the end of the stream (rcv_nxt moves past the FIN, copied_seq only when it is read:
// net/ipv4/tcp.c tcp_recvmsg_locked, found_fin_ok), so a CLOSE_WAIT socket whose data was
// all read shows 1: that is the CLOSE_WAIT leak itself, not unread data.
func ReceivedData(q probes.TCPQueue) uint64 {
	switch q.State {
	case "CLOSE_WAIT", "LAST_ACK", "CLOSING":
		if q.RxQueue > 0 {
			return q.RxQueue - 1
		}
	}
	return q.RxQueue
}

// sendStalled reports whether a connection's send queue did not drain between two reads:
// data waited at both and the peer acknowledged none of it in between (its receive window
// is closed: it stopped reading, or the network path is dead). With the counters,
// tcpi_bytes_acked did not move. Without them, the zero-window probe timer was pending at
// both reads (the peer advertised a zero window) and the queue did not shrink. Queue sizes
// alone cannot decide it: a busy server sending same-size responses is caught with the same
// non-zero send queue at two reads while every byte is acknowledged within microseconds
// (seen here: TestNoStalledSocketsUnderLoad fails with a rule on queue sizes alone).
func sendStalled(a, b probes.TCPQueue) bool {
	if a.TxQueue == 0 || b.TxQueue == 0 {
		return false
	}
	if a.BytesAcked != nil && b.BytesAcked != nil {
		return *a.BytesAcked == *b.BytesAcked
	}
	return a.ZeroWindowProbe && b.ZeroWindowProbe && b.TxQueue >= a.TxQueue
}

// stalledGroup sums the stalled connections of one group.
type stalledGroup struct {
	count, receive, send    int
	receiveBytes, sendBytes uint64
}

// ruleStalledSockets: TCP connections whose receive queue (the process stopped reading) or
// send queue (the peer stopped reading) did not drain through the sample window.
func ruleStalledSockets(s *model.Snapshot, ctx EvalContext) []model.Finding {
	w := ctx.TCPQueues
	if s.FDs == nil || w == nil {
		return nil
	}
	listeners := model.NewListenerSet(s.FDs.List)
	groups := map[model.ConnGroup]*stalledGroup{}
	var fds []int
	var stalled []model.FD
	total, receive, send := 0, 0, 0
	var receiveBytes, sendBytes uint64
	counters := true
	for _, fd := range s.FDs.List {
		so := fd.Socket
		if so == nil || fd.Type != "tcp" {
			continue
		}
		a, okA := w.Start[so.Inode]
		b, okB := w.End[so.Inode]
		if !okA || !okB {
			continue
		}
		rx, tx := receiveStalled(a, b), sendStalled(a, b)
		if !rx && !tx {
			continue
		}
		if a.BytesReceived == nil || b.BytesReceived == nil {
			counters = false
		}
		total++
		stalled = append(stalled, fd)
		if len(fds) < MaxListed {
			fds = append(fds, fd.FD)
		}
		k := listeners.GroupOf(so)
		g := groups[k]
		if g == nil {
			g = &stalledGroup{}
			groups[k] = g
		}
		g.count++
		if rx {
			receive++
			g.receive++
			g.receiveBytes += ReceivedData(b)
			receiveBytes += ReceivedData(b)
		}
		if tx {
			send++
			g.send++
			g.sendBytes += b.TxQueue
			sendBytes += b.TxQueue
		}
	}
	if total == 0 || total < ctx.Thresholds.StalledWarning {
		return nil
	}
	counts := map[model.ConnGroup]int{}
	keys := make([]model.ConnGroup, 0, len(groups))
	for k, g := range groups {
		counts[k] = g.count
		keys = append(keys, k)
	}
	less := lessGroup(counts)
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
	list := []evidence.Evidence{}
	for i, k := range keys {
		if i == MaxListed {
			break
		}
		g := groups[k]
		e := k.Evidence()
		e["count"] = evidence.Count(g.count)
		e["receive_stalled"] = evidence.Count(g.receive)
		e["send_stalled"] = evidence.Count(g.send)
		e["receive_bytes"] = evidence.Bytes(g.receiveBytes)
		e["send_bytes"] = evidence.Bytes(g.sendBytes)
		list = append(list, e)
	}
	// decided_by names the evidence: the byte counters of sock_diag (exact), or the /proc
	// tables' queues and zero-window timer (a process in another network namespace).
	source := "sock_diag"
	if !counters {
		source = "proc_tables"
	}
	ev := evidence.Evidence{
		"count": evidence.Count(total), "receive_stalled": evidence.Count(receive), "send_stalled": evidence.Count(send),
		"receive_bytes": evidence.Bytes(receiveBytes), "send_bytes": evidence.Bytes(sendBytes),
		"window_ms": evidence.Millis(w.Elapsed.Milliseconds()), "decided_by": evidence.Text(source),
		"groups": evidence.Objects(list), "groups_total": evidence.Count(len(keys)), "fds": evidence.FDs(fds),
	}
	markCut(ev, "fds", total, len(fds))
	markCut(ev, "groups", len(keys), len(list))
	var parts []string
	if receive > 0 {
		parts = append(parts, fmt.Sprintf("%d with %s received that this process does not read", receive, units.SignedBytes(int64(receiveBytes))))
	}
	if send > 0 {
		parts = append(parts, fmt.Sprintf("%d with %s sent that the peer does not read", send, units.SignedBytes(int64(sendBytes))))
	}
	top := keys[0]
	what := parts[0]
	if len(parts) == 2 {
		what += ", " + parts[1]
	}
	advice := "The process stopped reading these connections: streams paused and never resumed (backpressure never released), HTTP responses whose body is never consumed (res.resume() or destroy() them; with fetch/undici read or cancel the body). Data the process never reads keeps the connection, its memory and often a pool slot."
	if receive == 0 {
		advice = "The peers stopped reading what this process sends (their receive windows are closed): add write timeouts and drop slow consumers (socket.setTimeout, checking write()'s return value and 'drain'), or the buffered data grows in this process."
	}
	summary := fmt.Sprintf("%d TCP connections did not move through the %d ms window: %s (most: %d %s)",
		total, w.Elapsed.Milliseconds(), what, counts[top], top.Phrase())
	// With --attach, the JavaScript owners of the stalled sockets: "38 of 40 stalled
	// sockets were accepted by the http.Server on :3000; requests in flight: ...".
	if owners, oev := ownersSummary(stalled, "stalled sockets"); owners != "" {
		summary += "; " + owners
		ev["owners"] = evidence.Object(oev)
	}
	return []model.Finding{{
		Code:     model.CodeStalledSockets,
		Severity: model.SeverityWarning,
		Summary:  summary,
		Evidence: ev,
		Advice:   advice,
	}}
}
