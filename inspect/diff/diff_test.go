package diff

import (
	"fmt"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

func TestCompareReportsExactlyTheLeakedFDs(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	a := fdSnapshot(1024, 30, tcp(500, "LISTEN", "127.0.0.1:8080", "0.0.0.0:0", 0, 1))
	a.TakenAt = t0
	a.Sockets = &model.SocketSummary{ByState: map[string]int{"LISTEN": 1}}
	var leaked []model.FD
	for i := 0; i < 50; i++ {
		leaked = append(leaked, model.FD{FD: 600 + i, Type: "file", Target: fmt.Sprintf("/tmp/leak-%d", i)})
	}
	b := fdSnapshot(1024, 30, append([]model.FD{tcp(500, "LISTEN", "127.0.0.1:8080", "0.0.0.0:0", 0, 1)}, leaked...)...)
	b.TakenAt = t0.Add(100 * time.Second)
	b.Sockets = &model.SocketSummary{ByState: map[string]int{"LISTEN": 1}}

	d := Compare(a, b, DefaultThresholds(), t0)
	if !d.SameProcess || d.IntervalSeconds != 100 {
		t.Errorf("same %v interval %v", d.SameProcess, d.IntervalSeconds)
	}
	if *d.FDs.Open.Change != 50 || len(d.FDs.Removed) != 0 {
		t.Fatalf("open change %v removed %v", *d.FDs.Open.Change, d.FDs.Removed)
	}
	total := 0
	for _, g := range d.FDs.Added {
		total += g.Count
		if g.Type != "file" {
			t.Errorf("unexpected added group %+v", g)
		}
	}
	if total != 50 {
		t.Errorf("added %d fds, want 50", total)
	}
	if codes(d.Findings) != "FD_GROWTH:warning" {
		t.Fatalf("findings %s", codes(d.Findings))
	}
	ev := d.Findings[0].Evidence
	if ev["rate_per_second"] != evidence.Rate(0.5, "second") || ev["time_to_limit_seconds"] != evidence.Seconds((1024-81)*2) {
		t.Errorf("evidence %v", ev)
	}
}

func TestCompareNoGrowth(t *testing.T) {
	a := fdSnapshot(1024, 30)
	b := fdSnapshot(1024, 35)
	b.TakenAt = a.TakenAt.Add(time.Minute)
	rss := func(v uint64) *model.Memory { return &model.Memory{RSSBytes: u64(v)} }
	a.Memory, b.Memory = rss(100<<20), rss(110<<20)
	d := Compare(a, b, DefaultThresholds(), time.Now())
	if len(d.Findings) != 0 {
		t.Errorf("findings %s", codes(d.Findings))
	}
	b.Memory = rss(200 << 20)
	d = Compare(a, b, DefaultThresholds(), time.Now())
	if codes(d.Findings) != "RSS_GROWTH:warning" {
		t.Errorf("findings %s", codes(d.Findings))
	}
}

func TestCompareDifferentProcesses(t *testing.T) {
	a := fdSnapshot(1024, 3)
	b := fdSnapshot(1024, 3)
	b.Process = &model.Process{PID: 43}
	d := Compare(a, b, DefaultThresholds(), time.Now())
	if d.SameProcess || len(d.Warnings) == 0 {
		t.Errorf("different processes must be noted: %+v", d)
	}
}

func TestCompareChildrenAndCloseWait(t *testing.T) {
	a := &model.Snapshot{Children: []*model.Child{{PID: 10}}, Sockets: &model.SocketSummary{ByState: map[string]int{"CLOSE_WAIT": 1}, ByPeer: []model.PeerGroup{{Remote: "10.0.0.1", State: "CLOSE_WAIT", Count: 1}}}}
	b := &model.Snapshot{Children: []*model.Child{{PID: 10, Children: []*model.Child{{PID: 11, State: "Z", Zombie: true}}}, {PID: 12}},
		Sockets: &model.SocketSummary{ByState: map[string]int{"CLOSE_WAIT": 9}, ByPeer: []model.PeerGroup{{Remote: "10.0.0.1", State: "CLOSE_WAIT", Count: 9}}}}
	b.TakenAt = a.TakenAt.Add(10 * time.Second)
	d := Compare(a, b, DefaultThresholds(), time.Now())
	if len(d.Children.Appeared) != 2 || d.Children.Appeared[0].PID != 11 || !d.Children.Appeared[0].Zombie {
		t.Errorf("appeared %+v", d.Children.Appeared)
	}
	if codes(d.Findings) != "CLOSE_WAIT_GROWTH:warning" {
		t.Errorf("findings %s", codes(d.Findings))
	}
}
