package diff

import (
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

// TestCompareCloseWaitGrowthRunsToEMFILE: CLOSE_WAIT sockets reach EMFILE when they have
// used the headroom left under the fd limit, the same target watch fits to: 20 more in
// 100 s (0.2/s) with 1024 − 130 fds left is 4470 s.
func TestCompareCloseWaitGrowthRunsToEMFILE(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var cwA, cwB []model.FD
	for i := 0; i < 110; i++ {
		fd := tcp(100+i, "CLOSE_WAIT", "10.0.0.5:3000", "10.1.2.3:50000", 0, uint64(1000+i))
		if i < 90 {
			cwA = append(cwA, fd)
		}
		cwB = append(cwB, fd)
	}
	a := fdSnapshot(1024, 20, cwA...)
	a.TakenAt = t0
	a.Sockets = &model.SocketSummary{ByState: map[string]int{"CLOSE_WAIT": 90}}
	b := fdSnapshot(1024, 20, cwB...)
	b.TakenAt = t0.Add(100 * time.Second)
	b.Sockets = &model.SocketSummary{ByState: map[string]int{"CLOSE_WAIT": 110}}
	d := Compare(a, b, DefaultThresholds(), t0)
	var cw *model.Finding
	for i := range d.Findings {
		if d.Findings[i].Code == model.CodeCloseWaitGrowth {
			cw = &d.Findings[i]
		}
	}
	if cw == nil {
		t.Fatalf("no CLOSE_WAIT_GROWTH: %s", codes(d.Findings))
	}
	if cw.Evidence["limit"] != evidence.Number(1024) || cw.Evidence["time_to_limit_seconds"] != evidence.Seconds((1024-130)*5) {
		t.Errorf("evidence %v", cw.Evidence)
	}
}

// TestCompareHeapGrowthRunsToOOM: HEAP_GROWTH between two snapshots taken with --attach
// says when the heap reaches 80% of the old generation's limit, where V8 may end the
// process: 100 MiB to 200 MiB in 100 s (1 MiB/s) against 0.8 × 512 MiB is 209.6 s.
func TestCompareHeapGrowthRunsToOOM(t *testing.T) {
	const mib = 1 << 20
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	heap := func(used uint64) *model.Snapshot {
		u, limit, old := used, uint64(600*mib), uint64(512*mib)
		rss := used + 100*mib
		return &model.Snapshot{Memory: &model.Memory{RSSBytes: &rss, Heap: &model.Heap{UsedBytes: &u, LimitBytes: &limit, OldSpaceLimitBytes: &old}}}
	}
	a, b := heap(100*mib), heap(200*mib)
	a.TakenAt, b.TakenAt = t0, t0.Add(100*time.Second)
	d := Compare(a, b, DefaultThresholds(), t0)
	var hg *model.Finding
	for i := range d.Findings {
		if d.Findings[i].Code == model.CodeHeapGrowth {
			hg = &d.Findings[i]
		}
	}
	if hg == nil {
		t.Fatalf("no HEAP_GROWTH: %s", codes(d.Findings))
	}
	want := evidence.Seconds(210) // (409.6 − 200) MiB at 1 MiB/s, rounded to the second
	if _, named := hg.Evidence["limit_name"]; hg.Evidence["time_to_limit_seconds"] != want || !named {
		t.Errorf("evidence %v", hg.Evidence)
	}
	if !strings.Contains(hg.Summary, "out of memory") || !strings.Contains(hg.Summary, "in about 4 min at +3.52 GiB/h") {
		t.Errorf("summary %q", hg.Summary)
	}
}
