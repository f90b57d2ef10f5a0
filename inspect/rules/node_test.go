package rules

import (
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

func heapSnapshot(rss, total, used, limit uint64) *model.Snapshot {
	return &model.Snapshot{
		Process: &model.Process{PID: 42, IsNode: true},
		Memory: &model.Memory{RSSBytes: u64(rss), Heap: &model.Heap{
			UsedBytes: u64(used), TotalBytes: u64(total), LimitBytes: u64(limit), ExternalBytes: u64(rss / 2), Source: "inspector",
		}},
	}
}

func TestExternalMemory(t *testing.T) {
	const mib = 1 << 20
	ctx := EvalContext{Thresholds: DefaultThresholds()}
	for _, c := range []struct {
		name           string
		rss, heapTotal uint64
		want           bool
	}{
		{"400 MiB of buffers", 500 * mib, 10 * mib, true},
		{"exactly 3x and 256 MiB above", 384 * mib, 128 * mib, true},
		{"3x but small", 90 * mib, 30 * mib, false},
		{"large but mostly heap", 2000 * mib, 1500 * mib, false},
		{"just under 3x", 383 * mib, 128 * mib, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ruleExternalMemory(heapSnapshot(c.rss, c.heapTotal, c.heapTotal/2, 4096*mib), ctx)
			if (len(got) == 1) != c.want {
				t.Fatalf("findings %s", codes(got))
			}
			if c.want && got[0].Evidence["outside_heap_bytes"] != evidence.Bytes(c.rss-c.heapTotal) {
				t.Fatalf("evidence %v", got[0].Evidence)
			}
		})
	}
	// No heap, no RSS: no finding, no guess.
	s := heapSnapshot(500*mib, 10*mib, 5*mib, 4096*mib)
	s.Memory.RSSBytes = nil
	if got := ruleExternalMemory(s, ctx); len(got) != 0 {
		t.Fatal("a finding without RSS")
	}
	s.Memory.Heap = nil
	if got := ruleExternalMemory(s, ctx); len(got) != 0 {
		t.Fatal("a finding without heap")
	}
}

func TestHeapNearLimit(t *testing.T) {
	ctx := EvalContext{Thresholds: DefaultThresholds()}
	for _, c := range []struct {
		used uint64
		want string
	}{{840, ""}, {850, "HEAP_NEAR_LIMIT:warning"}, {949, "HEAP_NEAR_LIMIT:warning"}, {950, "HEAP_NEAR_LIMIT:critical"}, {1000, "HEAP_NEAR_LIMIT:critical"}} {
		if got := codes(ruleHeapNearLimit(heapSnapshot(2000, 1000, c.used, 1000), ctx)); got != c.want {
			t.Errorf("used %d of 1000: %q, want %q", c.used, got, c.want)
		}
	}
	s := heapSnapshot(2000, 1000, 999, 0)
	if got := ruleHeapNearLimit(s, ctx); len(got) != 0 {
		t.Fatal("a finding against a zero limit")
	}
}

func TestListenerRules(t *testing.T) {
	ctx := EvalContext{Thresholds: DefaultThresholds()}
	s := &model.Snapshot{Node: &model.NodeInfo{Listeners: map[string]int{"SIGTERM": 0, "SIGINT": 1, "uncaughtException": 1, "unhandledRejection": 0}}}
	if got := codes(ruleNoSIGTERM(s, ctx)); got != "NO_SIGTERM_HANDLER:info" {
		t.Errorf("SIGTERM: %q", got)
	}
	f := ruleNoErrorHandlers(s, ctx)
	if len(f) != 1 || len(texts(f[0].Evidence["missing"])) != 1 || texts(f[0].Evidence["missing"])[0] != "unhandledRejection" {
		t.Errorf("error handlers: %+v", f)
	}
	s.Node.Listeners = map[string]int{"SIGTERM": 2, "uncaughtException": 1, "unhandledRejection": 1}
	if got := codes(append(ruleNoSIGTERM(s, ctx), ruleNoErrorHandlers(s, ctx)...)); got != "" {
		t.Errorf("all handled: %q", got)
	}
	// A report holds no listener counts: nothing is judged.
	s.Node.Listeners = nil
	if got := codes(append(ruleNoSIGTERM(s, ctx), ruleNoErrorHandlers(s, ctx)...)); got != "" {
		t.Errorf("unknown listeners judged: %q", got)
	}
}

func TestReferencedHandles(t *testing.T) {
	ctx := EvalContext{Thresholds: DefaultThresholds()}
	fd := func(n int) *int { return &n }
	s := &model.Snapshot{Handles: []model.Handle{
		{Type: "tcp", Active: true, Referenced: true, KeepsAlive: true, FD: fd(19), Local: "0.0.0.0:8080"},
		{Type: "tcp", Active: false, Referenced: true, FD: fd(20)},
		{Type: "timer", Active: true, Referenced: false},
		{Type: "timer", Active: true, Referenced: true, KeepsAlive: true, Detail: "fires in 100 ms"},
		{Type: "async", Active: true, Referenced: false},
	}}
	f := ruleReferencedHandles(s, ctx)
	if len(f) != 1 || intOf(f[0].Evidence["count"]) != 2 {
		t.Fatalf("%+v", f)
	}
	byType, _ := f[0].Evidence["by_type"].Object()
	if intOf(byType["tcp"]) != 1 || intOf(byType["timer"]) != 1 {
		t.Fatalf("by type %v", byType)
	}
	if f[0].Summary != "The event loop is kept alive by 1 tcp, 1 timer: the process will not exit on its own while they stay" {
		t.Errorf("summary %q", f[0].Summary)
	}
	if got := ruleReferencedHandles(&model.Snapshot{Handles: []model.Handle{{Type: "async", Active: true}}}, ctx); len(got) != 0 {
		t.Fatal("a finding when nothing keeps the loop alive")
	}
}
