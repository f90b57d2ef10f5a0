package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/probes"
)

func TestCloseWaitOutboundGroupedByUpstream(t *testing.T) {
	// A gateway: a listener on 8080 with two clients, and 30 connections it opened to an
	// upstream on 9000 from random local ports, all in CLOSE_WAIT.
	extra := []model.FD{tcp(3, "LISTEN", "0.0.0.0:8080", "0.0.0.0:0", 0, 1),
		tcp(4, "CLOSE_WAIT", "10.0.0.1:8080", "10.0.0.50:51000", 0, 2),
		tcp(5, "CLOSE_WAIT", "10.0.0.1:8080", "10.0.0.50:51001", 0, 3)}
	for i := 0; i < 30; i++ {
		extra = append(extra, tcp(10+i, "CLOSE_WAIT", fmt.Sprintf("10.0.0.1:%d", 32844+i), "10.0.0.9:9000", 70000, uint64(100+i)))
	}
	f := ruleCloseWait(fdSnapshot(100000, 0, extra...), EvalContext{Thresholds: DefaultThresholds()})
	if len(f) != 1 {
		t.Fatalf("got %d findings", len(f))
	}
	groups := objects(f[0].Evidence["groups"])
	if len(groups) != 2 {
		t.Fatalf("groups = %v", groups)
	}
	out, in := groups[0], groups[1]
	if textOf(out["direction"]) != "outbound" || textOf(out["peer"]) != "10.0.0.9" || intOf(out["remote_port"]) != 9000 || !out["local_port"].IsNull() || intOf(out["count"]) != 30 {
		t.Errorf("outbound group = %v", out)
	}
	if textOf(in["direction"]) != "inbound" || intOf(in["local_port"]) != 8080 || !in["remote_port"].IsNull() || intOf(in["count"]) != 2 {
		t.Errorf("inbound group = %v", in)
	}
	if want := "most: 30 outbound to 10.0.0.9:9000"; !strings.Contains(f[0].Summary, want) {
		t.Errorf("summary %q lacks %q", f[0].Summary, want)
	}
}

func TestListenerSetFamilyAndAddress(t *testing.T) {
	v6 := func(fd int, state, local, remote string, ino uint64) model.FD {
		x := tcp(fd, state, local, remote, 0, ino)
		x.Socket.Proto = "tcp6"
		return x
	}
	fds := []model.FD{
		tcp(3, "LISTEN", "127.0.0.1:8080", "0.0.0.0:0", 0, 1),
		v6(4, "LISTEN", "[::]:9090", "[::]:0", 2),
	}
	l := model.NewListenerSet(fds)
	cases := []struct {
		so   model.FD
		want bool
	}{
		{tcp(5, "ESTABLISHED", "127.0.0.1:8080", "127.0.0.1:40000", 0, 5), true},
		{tcp(6, "ESTABLISHED", "10.0.0.1:8080", "10.0.0.2:40000", 0, 6), false}, // other address
		{v6(7, "ESTABLISHED", "[::ffff:10.0.0.1]:9090", "[::ffff:10.0.0.2]:1", 7), true},
		{tcp(8, "ESTABLISHED", "10.0.0.1:9090", "10.0.0.2:1", 0, 8), false},         // v4 table, v6 listener
		{v6(9, "ESTABLISHED", "[::1]:8080", "[::1]:1", 9), false},                   // v6 table, v4 listener
		{tcp(10, "ESTABLISHED", "127.0.0.1:33000", "127.0.0.1:8080", 0, 10), false}, // outbound to own listener
	}
	for _, c := range cases {
		if got := l.Inbound(c.so.Socket); got != c.want {
			t.Errorf("%s → %s: inbound %v, want %v", c.so.Socket.Local, c.so.Socket.Remote, got, c.want)
		}
	}
}

func TestCloseWaitThousandIsCut(t *testing.T) {
	var extra []model.FD
	for i := 0; i < 1000; i++ {
		extra = append(extra, tcp(10+i, "CLOSE_WAIT", fmt.Sprintf("127.0.%d.%d:%d", i/200, i%200, 40000+i), fmt.Sprintf("10.1.%d.%d:443", i/250, i%250), 1, uint64(1000+i)))
	}
	f := ruleCloseWait(fdSnapshot(100000, 0, extra...), EvalContext{Thresholds: DefaultThresholds()})
	ev := f[0].Evidence
	if intOf(ev["fds_total"]) != 1000 || !flag(ev["truncated"]) || len(ev["fds"].Ints()) != MaxListed || ev["fds"].Unit() != evidence.UnitFDs {
		t.Errorf("fds: total %v truncated %v listed %d", ev["fds_total"], ev["truncated"], len(ev["fds"].Ints()))
	}
	if intOf(ev["groups_total"]) != 1000 || len(objects(ev["groups"])) != MaxListed {
		t.Errorf("groups: total %v listed %d", ev["groups_total"], len(objects(ev["groups"])))
	}
	// Below the cut nothing is marked.
	f = ruleCloseWait(fdSnapshot(100000, 0, extra[:12]...), EvalContext{Thresholds: DefaultThresholds()})
	if _, ok := f[0].Evidence["truncated"]; ok {
		t.Errorf("12 sockets marked truncated: %v", f[0].Evidence)
	}
	if _, ok := f[0].Evidence["fds_total"]; ok {
		t.Errorf("12 sockets have fds_total: %v", f[0].Evidence)
	}
}

func TestZombiesAndOrphansCut(t *testing.T) {
	s := fdSnapshot(1024, 0)
	for i := 0; i < 50; i++ {
		s.Children = append(s.Children, &model.Child{PID: 1000 + i, Zombie: true})
		s.Orphans = append(s.Orphans, model.Orphan{PID: 2000 + i, PGID: s.Process.PGID})
	}
	for _, f := range append(ruleZombies(s, EvalContext{}), ruleOrphans(s, EvalContext{})...) {
		if intOf(f.Evidence["pids_total"]) != 50 || !flag(f.Evidence["truncated"]) || len(f.Evidence["pids"].Ints()) != MaxListed || f.Evidence["pids"].Unit() != evidence.UnitPIDs {
			t.Errorf("%s evidence = %v", f.Code, f.Evidence)
		}
	}
}

func q(state string, rx, tx uint64, received, acked *uint64) probes.TCPQueue {
	return probes.TCPQueue{State: state, RxQueue: rx, TxQueue: tx, BytesReceived: received, BytesAcked: acked}
}

func zwp(x probes.TCPQueue) probes.TCPQueue { x.ZeroWindowProbe = true; return x }

func TestStalledDecisions(t *testing.T) {
	cases := []struct {
		name   string
		a, b   probes.TCPQueue
		rx, tx bool
	}{
		{"unread body, counters", q("ESTABLISHED", 65536, 0, u64(70000), u64(100)), q("ESTABLISHED", 65536, 0, u64(70000), u64(100)), true, false},
		{"more arrived, none read", q("ESTABLISHED", 1000, 0, u64(5000), nil), q("ESTABLISHED", 3000, 0, u64(7000), nil), true, false},
		{"busy server: new request each read", q("ESTABLISHED", 120, 0, u64(12000), nil), q("ESTABLISHED", 120, 0, u64(48000), nil), false, false},
		{"read some", q("ESTABLISHED", 3000, 0, u64(5000), nil), q("ESTABLISHED", 1000, 0, u64(5000), nil), false, false},
		{"drained", q("ESTABLISHED", 3000, 0, u64(5000), nil), q("ESTABLISHED", 0, 0, u64(5000), nil), false, false},
		{"peer not reading, counters", q("ESTABLISHED", 0, 200000, nil, u64(4000)), q("ESTABLISHED", 0, 260000, nil, u64(4000)), false, true},
		{"peer reading slowly", q("ESTABLISHED", 0, 200000, nil, u64(4000)), q("ESTABLISHED", 0, 200000, nil, u64(9000)), false, false},
		{"no counters: ESTABLISHED rx is undecided", q("ESTABLISHED", 500, 0, nil, nil), q("ESTABLISHED", 500, 0, nil, nil), false, false},
		{"no counters: CLOSE_WAIT rx unchanged", q("CLOSE_WAIT", 70001, 0, nil, nil), q("CLOSE_WAIT", 70001, 0, nil, nil), true, false},
		{"no counters: CLOSE_WAIT only the FIN", q("CLOSE_WAIT", 1, 0, nil, nil), q("CLOSE_WAIT", 1, 0, nil, nil), false, false},
		{"counters: CLOSE_WAIT only the FIN", q("CLOSE_WAIT", 1, 0, u64(9), nil), q("CLOSE_WAIT", 1, 0, u64(9), nil), false, false},
		{"no counters: tx unchanged, window open", q("ESTABLISHED", 0, 4096, nil, nil), q("ESTABLISHED", 0, 4096, nil, nil), false, false},
		{"no counters: zero window at both", zwp(q("ESTABLISHED", 0, 4096, nil, nil)), zwp(q("ESTABLISHED", 0, 8192, nil, nil)), false, true},
		{"no counters: zero window, queue drained some", zwp(q("ESTABLISHED", 0, 8192, nil, nil)), zwp(q("ESTABLISHED", 0, 4096, nil, nil)), false, false},
		{"no counters: zero window at the end only", q("ESTABLISHED", 0, 4096, nil, nil), zwp(q("ESTABLISHED", 0, 4096, nil, nil)), false, false},
	}
	for _, c := range cases {
		if got := receiveStalled(c.a, c.b); got != c.rx {
			t.Errorf("%s: receiveStalled = %v, want %v", c.name, got, c.rx)
		}
		if got := sendStalled(c.a, c.b); got != c.tx {
			t.Errorf("%s: sendStalled = %v, want %v", c.name, got, c.tx)
		}
	}
}

func TestStalledSocketsRule(t *testing.T) {
	extra := []model.FD{tcp(3, "LISTEN", "0.0.0.0:8080", "0.0.0.0:0", 0, 1)}
	start, end := map[uint64]probes.TCPQueue{}, map[uint64]probes.TCPQueue{}
	add := func(n int, local, remote string, rx uint64, first uint64) {
		for i := 0; i < n; i++ {
			ino := first + uint64(i)
			extra = append(extra, tcp(int(ino), "ESTABLISHED", fmt.Sprintf(local, 33000+int(ino)), remote, rx, ino))
			start[ino] = q("ESTABLISHED", rx, 0, u64(rx+10), nil)
			end[ino] = q("ESTABLISHED", rx, 0, u64(rx+10), nil)
		}
	}
	add(4, "127.0.0.1:%d", "127.0.0.1:9000", 65536, 100) // 4 outbound to 9000
	ctx := EvalContext{Thresholds: DefaultThresholds(), TCPQueues: &QueueWindow{Start: start, End: end, Elapsed: 300 * time.Millisecond}}
	if f := ruleStalledSockets(fdSnapshot(1024, 0, extra...), ctx); len(f) != 0 {
		t.Fatalf("4 stalled connections fired: %v", f)
	}
	add(1, "127.0.0.1:%d", "127.0.0.1:9000", 65536, 200)
	f := ruleStalledSockets(fdSnapshot(1024, 0, extra...), ctx)
	if len(f) != 1 || f[0].Code != "STALLED_SOCKETS" || f[0].Severity != model.SeverityWarning {
		t.Fatalf("5 stalled: %v", f)
	}
	ev := f[0].Evidence
	if ev["count"] != evidence.Count(5) || ev["receive_stalled"] != evidence.Count(5) || ev["receive_bytes"] != evidence.Bytes(5*65536) || ev["window_ms"] != evidence.Millis(300) {
		t.Errorf("evidence = %v", ev)
	}
	g := objects(ev["groups"])[0]
	if textOf(g["direction"]) != "outbound" || intOf(g["remote_port"]) != 9000 || intOf(g["count"]) != 5 {
		t.Errorf("group = %v", g)
	}
	// Without the window (no --sample, analyze) nothing is decided.
	if f := ruleStalledSockets(fdSnapshot(1024, 0, extra...), EvalContext{Thresholds: DefaultThresholds()}); len(f) != 0 {
		t.Errorf("no window: %v", f)
	}
	// A higher threshold is honoured.
	ctx.Thresholds.StalledWarning = 6
	if f := ruleStalledSockets(fdSnapshot(1024, 0, extra...), ctx); len(f) != 0 {
		t.Errorf("threshold 6: %v", f)
	}
}

// TestStalledSocketsNamesOwners: with --attach the stalled sockets' owners are named in
// the summary and the evidence, as CLOSE_WAIT_LEAK does.
func TestStalledSocketsNamesOwners(t *testing.T) {
	extra := []model.FD{tcp(3, "LISTEN", "0.0.0.0:3000", "0.0.0.0:0", 0, 1)}
	start, end := map[uint64]probes.TCPQueue{}, map[uint64]probes.TCPQueue{}
	for i := 0; i < 6; i++ {
		ino := uint64(100 + i)
		fd := tcp(int(ino), "ESTABLISHED", "127.0.0.1:3000", fmt.Sprintf("127.0.0.1:%d", 40000+i), 4096, ino)
		if i < 5 {
			age := int64(1000 * (i + 1))
			fd.Owner = &model.SocketOwner{Role: "accepted", Server: "http.Server on :3000",
				Request: &model.OwnerRequest{Method: "POST", Path: "/upload", AgeMS: &age}}
		}
		extra = append(extra, fd)
		start[ino] = q("ESTABLISHED", 4096, 0, u64(4096+10), nil)
		end[ino] = q("ESTABLISHED", 4096, 0, u64(4096+10), nil)
	}
	ctx := EvalContext{Thresholds: DefaultThresholds(), TCPQueues: &QueueWindow{Start: start, End: end, Elapsed: 300 * time.Millisecond}}
	f := ruleStalledSockets(fdSnapshot(1024, 0, extra...), ctx)
	if len(f) != 1 {
		t.Fatalf("findings = %v", f)
	}
	for _, want := range []string{"5 of 6 stalled sockets were accepted by the http.Server on :3000", "requests in flight: POST /upload (5"} {
		if !strings.Contains(f[0].Summary, want) {
			t.Errorf("summary %q lacks %q", f[0].Summary, want)
		}
	}
	if o, ok := f[0].Evidence["owners"].Object(); !ok || intOf(o["owners_known"]) != 5 {
		t.Errorf("owners evidence = %v", f[0].Evidence["owners"])
	}
}
