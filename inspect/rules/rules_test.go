package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/internal/snapfix"
)

func u64(v uint64) *uint64 { return &v }
func i64(v int64) *int64   { return &v }

// The shared snapshot fixtures (internal/snapfix).
var (
	fdSnapshot = snapfix.FDSnapshot
	tcp        = snapfix.TCP
	codes      = snapfix.Codes
)

func TestEMFILERisk(t *testing.T) {
	ctx := EvalContext{Thresholds: DefaultThresholds()}
	cases := []struct {
		open int
		soft uint64
		want string
	}{
		{79, 100, ""},
		{80, 100, "EMFILE_RISK:warning"},
		{94, 100, "EMFILE_RISK:warning"},
		{95, 100, "EMFILE_RISK:critical"},
		{120, 100, "EMFILE_RISK:critical"},
		{0, 1024, ""},
	}
	for _, c := range cases {
		got := codes(Evaluate(fdSnapshot(c.soft, c.open), ctx))
		if got != c.want {
			t.Errorf("open %d of %d: got %q, want %q", c.open, c.soft, got, c.want)
		}
	}
	// Unlimited (nil) soft limit and unknown limits never fire.
	s := fdSnapshot(100, 99)
	s.Limits.OpenFilesSoft = nil
	if f := Evaluate(s, ctx); len(f) != 0 {
		t.Errorf("unlimited: got %s", codes(f))
	}
	s.Limits = nil
	if f := Evaluate(s, ctx); len(f) != 0 {
		t.Errorf("no limits: got %s", codes(f))
	}
	// A threshold override is honoured.
	th := DefaultThresholds()
	th.EMFILEWarning = 0.5
	if got := codes(Evaluate(fdSnapshot(100, 50), EvalContext{Thresholds: th})); got != "EMFILE_RISK:warning" {
		t.Errorf("override: got %q", got)
	}
}

func TestCloseWaitLeak(t *testing.T) {
	ctx := EvalContext{Thresholds: DefaultThresholds()}
	mk := func(n int) *model.Snapshot {
		var extra []model.FD
		for i := 0; i < n; i++ {
			peer := "10.0.0.7"
			if i%3 == 0 {
				peer = "10.0.0.8"
			}
			extra = append(extra, tcp(10+i, "CLOSE_WAIT", "127.0.0.1:8080", fmt.Sprintf("%s:%d", peer, 40000+i), 0, uint64(1000+i)))
		}
		extra = append(extra, tcp(9, "ESTABLISHED", "127.0.0.1:8080", "10.0.0.9:5000", 0, 999),
			tcp(8, "LISTEN", "0.0.0.0:8080", "0.0.0.0:0", 0, 998))
		return fdSnapshot(100000, 0, extra...)
	}
	if got := codes(Evaluate(mk(9), ctx)); got != "" {
		t.Errorf("9 CLOSE_WAIT: got %q", got)
	}
	f := Evaluate(mk(10), ctx)
	if got := codes(f); got != "CLOSE_WAIT_LEAK:warning" {
		t.Fatalf("10 CLOSE_WAIT: got %q", got)
	}
	if intOf(f[0].Evidence["count"]) != 10 {
		t.Errorf("count = %v", f[0].Evidence["count"])
	}
	groups := objects(f[0].Evidence["groups"])
	if len(groups) != 2 || textOf(groups[0]["peer"]) != "10.0.0.7" || intOf(groups[0]["count"]) != 6 || intOf(groups[0]["local_port"]) != 8080 {
		t.Errorf("groups = %v", groups)
	}
	if got := codes(Evaluate(mk(100), ctx)); got != "CLOSE_WAIT_LEAK:critical" {
		t.Errorf("100 CLOSE_WAIT: got %q", got)
	}
	if fds := Evaluate(mk(100), ctx)[0].Evidence["fds"].Ints(); len(fds) != MaxListed {
		t.Errorf("fds listed = %d, want %d", len(fds), MaxListed)
	}
}

func TestDeletedFilesHeld(t *testing.T) {
	ctx := EvalContext{Thresholds: DefaultThresholds()}
	s := fdSnapshot(1024, 3,
		model.FD{FD: 7, Type: "file", Target: "/var/log/app.log", Deleted: true, Size: i64(5 << 20)},
		model.FD{FD: 8, Type: "file", Target: "/tmp/x\ny", Deleted: true, Size: i64(1 << 20)},
	)
	f := Evaluate(s, ctx)
	if codes(f) != "DELETED_FILES_HELD:warning" {
		t.Fatalf("got %s", codes(f))
	}
	if f[0].Evidence["bytes"] != evidence.Bytes(6<<20) || f[0].Evidence["count"] != evidence.Count(2) {
		t.Errorf("evidence = %v", f[0].Evidence)
	}
	if !strings.Contains(f[0].Summary, "6.00 MiB") {
		t.Errorf("summary = %q", f[0].Summary)
	}
}

func TestZombiesAndBlockedLoopExplainEachOther(t *testing.T) {
	s := &model.Snapshot{
		Process: &model.Process{PID: 42, PPID: 1, PGID: 42, SID: 42, IsNode: true},
		Children: []*model.Child{
			{PID: 50, State: "Z", Zombie: true},
			{PID: 51, State: "S"},
			{PID: 52, State: "Z", Zombie: true},
		},
		EventLoop: &model.EventLoop{WindowMS: 300, Samples: 60, Seen: map[string]int{"running": 60}, Source: "syscall", Verdict: "blocked"},
	}
	f := Evaluate(s, EvalContext{Thresholds: DefaultThresholds()})
	if codes(f) != "EVENT_LOOP_BLOCKED:warning,ZOMBIE_CHILDREN:warning" {
		t.Fatalf("got %s", codes(f))
	}
	z := f[1]
	if intOf(z.Evidence["count"]) != 2 || fmt.Sprint(z.Evidence["pids"].Ints()) != "[50 52]" {
		t.Errorf("zombie evidence = %v", z.Evidence)
	}
	if len(z.Related) != 1 || z.Related[0] != "EVENT_LOOP_BLOCKED" || !strings.Contains(z.Summary, "never reaps") {
		t.Errorf("zombies not related to the blocked loop: %+v", z)
	}
	if !strings.Contains(f[0].Summary, "running on the CPU") {
		t.Errorf("loop summary = %q", f[0].Summary)
	}
	// A turning loop is no finding.
	s.EventLoop.Verdict = "turning"
	s.Children = nil
	if f := Evaluate(s, EvalContext{Thresholds: DefaultThresholds()}); len(f) != 0 {
		t.Errorf("turning loop: got %s", codes(f))
	}
}

func TestEventLoopBlockedDescribesFutex(t *testing.T) {
	s := &model.Snapshot{EventLoop: &model.EventLoop{WindowMS: 300, Samples: 30, Seen: map[string]int{"futex": 29, "running": 1}, Verdict: "blocked"}}
	f := Evaluate(s, EvalContext{Thresholds: DefaultThresholds()})
	if len(f) != 1 || !strings.Contains(f[0].Summary, "futex") || textOf(f[0].Evidence["main_thread"]) != "futex" {
		t.Fatalf("got %+v", f)
	}
}

func TestOrphans(t *testing.T) {
	s := &model.Snapshot{Process: &model.Process{PID: 42, PPID: 1, PGID: 40, SID: 30, Orphan: true}}
	f := Evaluate(s, EvalContext{Thresholds: DefaultThresholds()})
	if codes(f) != "ORPHAN_PROCESS:warning" || intOf(f[0].Evidence["pgid"]) != 40 {
		t.Fatalf("got %+v", f)
	}
	s = &model.Snapshot{Process: &model.Process{PID: 42, PPID: 7, PGID: 42, SID: 42}, Orphans: []model.Orphan{{PID: 61, PGID: 42}, {PID: 60, PGID: 42}, {PID: 70, PGID: 69}}}
	f = Evaluate(s, EvalContext{Thresholds: DefaultThresholds()})
	if codes(f) != "ORPHAN_PROCESS:warning" || fmt.Sprint(f[0].Evidence["pids"].Ints()) != "[60 61]" {
		t.Fatalf("got %+v", f)
	}
}

func TestListenBacklog(t *testing.T) {
	s := fdSnapshot(1024, 0,
		tcp(3, "LISTEN", "127.0.0.1:8080", "0.0.0.0:0", 5, 77),
		tcp(4, "LISTEN", "127.0.0.1:8081", "0.0.0.0:0", 3, 78),
		tcp(5, "LISTEN", "127.0.0.1:8082", "0.0.0.0:0", 0, 79),
	)
	th := DefaultThresholds()
	// Without a second read and without a backlog size, one read proves nothing.
	if f := Evaluate(s, EvalContext{Thresholds: th}); len(f) != 0 {
		t.Errorf("single read: got %s", codes(f))
	}
	// 8080 still queued after the window; 8081 was drained.
	f := Evaluate(s, EvalContext{Thresholds: th, ListenQueueAfter: map[uint64]uint64{77: 6, 78: 0}})
	if codes(f) != "LISTEN_BACKLOG:warning" {
		t.Fatalf("got %s", codes(f))
	}
	ls := objects(f[0].Evidence["listeners"])
	if len(ls) != 1 || textOf(ls[0]["local"]) != "127.0.0.1:8080" || intOf(ls[0]["queued_after_window"]) != 6 {
		t.Errorf("listeners = %v", ls)
	}
	// Backlog known (netlink): half full fires on one read.
	f = Evaluate(s, EvalContext{Thresholds: th, Backlogs: map[uint64]uint64{78: 4}})
	if codes(f) != "LISTEN_BACKLOG:warning" {
		t.Fatalf("backlog: got %s", codes(f))
	}
}

func TestInspector(t *testing.T) {
	s := fdSnapshot(1024, 0,
		tcp(3, "LISTEN", "127.0.0.1:9229", "0.0.0.0:0", 0, 1),
		tcp(4, "LISTEN", "0.0.0.0:9230", "0.0.0.0:0", 0, 2),
		tcp(5, "LISTEN", "[::]:8080", "[::]:0", 0, 3),
		tcp(6, "ESTABLISHED", "127.0.0.1:9229", "127.0.0.1:5000", 0, 4),
	)
	f := Evaluate(s, EvalContext{Thresholds: DefaultThresholds(), InspectorPorts: []int{9229, 9230}})
	if codes(f) != "INSPECTOR_EXPOSED:critical,INSPECTOR_OPEN:info" {
		t.Fatalf("got %s", codes(f))
	}
	if f := Evaluate(s, EvalContext{Thresholds: DefaultThresholds()}); len(f) != 0 {
		t.Errorf("no inspector ports: got %s", codes(f))
	}
	for _, h := range []string{"127.0.0.1", "127.3.4.5", "::1", "::ffff:127.0.0.1"} {
		if !isLoopback(h) {
			t.Errorf("%s is loopback", h)
		}
	}
	for _, h := range []string{"0.0.0.0", "::", "10.1.2.3", "", "garbage"} {
		if isLoopback(h) {
			t.Errorf("%s is not loopback", h)
		}
	}
}

func TestCloseWaitExplainsEMFILE(t *testing.T) {
	var extra []model.FD
	for i := 0; i < 90; i++ {
		extra = append(extra, tcp(10+i, "CLOSE_WAIT", "127.0.0.1:8080", "127.0.0.1:5000", 0, uint64(i+1)))
	}
	f := Evaluate(fdSnapshot(100, 5, extra...), EvalContext{Thresholds: DefaultThresholds()})
	if codes(f) != "EMFILE_RISK:critical,CLOSE_WAIT_LEAK:warning" {
		t.Fatalf("got %s", codes(f))
	}
	if len(f[0].Related) != 1 || f[0].Related[0] != "CLOSE_WAIT_LEAK" {
		t.Errorf("EMFILE not related to CLOSE_WAIT: %+v", f[0])
	}
}

func TestHealthySnapshotHasNoFindings(t *testing.T) {
	s := fdSnapshot(1048576, 20,
		tcp(3, "LISTEN", "127.0.0.1:8080", "0.0.0.0:0", 0, 1),
		tcp(4, "ESTABLISHED", "127.0.0.1:8080", "127.0.0.1:40000", 0, 2),
	)
	s.EventLoop = &model.EventLoop{Verdict: "turning", Samples: 60, InEpoll: 59}
	s.Children = []*model.Child{}
	if f := Evaluate(s, EvalContext{Thresholds: DefaultThresholds(), InspectorPorts: []int{9229}}); len(f) != 0 {
		t.Errorf("healthy: got %s", codes(f))
	}
}

func TestZeroThresholdsDoNotPanic(t *testing.T) {
	s := fdSnapshot(0, 3)
	s.Sockets = &model.SocketSummary{}
	s.EventLoop = &model.EventLoop{Verdict: "blocked"}
	_ = Evaluate(s, EvalContext{})
	_ = Evaluate(&model.Snapshot{}, EvalContext{})
}
