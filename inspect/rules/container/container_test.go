package container

import (
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

func TestRuleContainerMemoryThresholds(t *testing.T) {
	for _, c := range []struct {
		ws, limit uint64
		want      model.Severity
	}{
		{84, 100, ""}, {85, 100, model.SeverityWarning}, {94, 100, model.SeverityWarning}, {95, 100, model.SeverityCritical}, {120, 100, model.SeverityCritical},
	} {
		s := &model.Snapshot{Container: &model.Container{Memory: model.ContainerMemory{WorkingSetBytes: ref(c.ws << 20), LimitBytes: ref(c.limit << 20), UsageBytes: ref(c.ws<<20 + 1<<20)}}}
		got := severities(Memory(s, Defaults()))["CONTAINER_MEMORY_NEAR_LIMIT"]
		if got != c.want {
			t.Errorf("%d of %d: %q, want %q", c.ws, c.limit, got, c.want)
		}
	}
	// No limit, or an unknown working set: no finding.
	for _, m := range []model.ContainerMemory{{WorkingSetBytes: ref(uint64(99))}, {LimitBytes: ref(uint64(100))}} {
		if f := Memory(&model.Snapshot{Container: &model.Container{Memory: m}}, Thresholds{}); len(f) > 0 {
			t.Errorf("%+v: %+v", m, f)
		}
	}
	// A flag moves the threshold.
	th := Defaults()
	th.MemoryWarning = 0.5
	s := &model.Snapshot{Container: &model.Container{Memory: model.ContainerMemory{WorkingSetBytes: ref(uint64(60)), LimitBytes: ref(uint64(100))}}}
	if len(Memory(s, th)) != 1 {
		t.Error("--container-memory-warning 50 ignored")
	}
}

func TestRuleCPUThrottledAndPids(t *testing.T) {
	cpu := func(periods, throttled uint64) *model.Snapshot {
		return &model.Snapshot{Container: &model.Container{CPU: model.ContainerCPU{QuotaCPUs: ref(0.2), Periods: ref(periods), ThrottledPeriods: ref(throttled), ThrottledSeconds: ref(0.8), WindowSeconds: ref(1.0)}}}
	}
	if f := CPUThrottled(cpu(10, 1), Thresholds{}); len(f) > 0 {
		t.Errorf("10%%: %+v", f)
	}
	f := CPUThrottled(cpu(10, 2), Thresholds{})
	if len(f) != 1 || !strings.Contains(f[0].Summary, "0.2 CPUs") || !strings.Contains(f[0].Advice, "event-loop delay") {
		t.Errorf("20%%: %+v", f)
	}
	if f := CPUThrottled(cpu(0, 0), Thresholds{}); len(f) > 0 {
		t.Errorf("no periods: %+v", f)
	}
	pids := func(cur, max uint64) []model.Finding {
		return PidsNearLimit(&model.Snapshot{Container: &model.Container{Pids: model.ContainerPids{Current: ref(cur), Max: ref(max)}}}, Thresholds{})
	}
	if len(pids(89, 100)) != 0 || len(pids(90, 100)) != 1 || len(PidsNearLimit(&model.Snapshot{Container: &model.Container{Pids: model.ContainerPids{Current: ref(uint64(5))}}}, Thresholds{})) != 0 {
		t.Error("pids thresholds")
	}
}

// TestRuleHeapLimitAboveContainer: Node 20's default heap limit in a 256 MiB container
// (nodejs/node#64646: the heap may grow past what the container allows).
func TestRuleHeapLimitAboveContainer(t *testing.T) {
	snap := func(heapLimit, rss, heapTotal, limit uint64) *model.Snapshot {
		return &model.Snapshot{
			Memory:    &model.Memory{RSSBytes: ref(rss), Heap: &model.Heap{LimitBytes: ref(heapLimit), TotalBytes: ref(heapTotal)}},
			Container: &model.Container{Memory: model.ContainerMemory{LimitBytes: ref(limit)}},
		}
	}
	f := HeapLimitAboveContainer(snap(262<<20, 120<<20, 60<<20, 256<<20), Thresholds{})
	if len(f) != 1 {
		t.Fatalf("262 MiB heap limit + 60 MiB outside in 256 MiB: %+v", f)
	}
	// 256 MiB − 25.6 MiB headroom − 60 MiB outside − 48 MiB young generation = 122 MiB.
	if intOf(f[0].Evidence["suggested_max_old_space_mib"]) != 122 || !strings.Contains(f[0].Advice, "--max-old-space-size=122") {
		t.Errorf("advice %q, evidence %v", f[0].Advice, f[0].Evidence)
	}
	if f := HeapLimitAboveContainer(snap(148<<20, 100<<20, 60<<20, 256<<20), Thresholds{}); len(f) != 0 {
		t.Errorf("148 MiB + 40 MiB fits in 256 MiB: %+v", f)
	}
	if f := HeapLimitAboveContainer(snap(4144<<20, 250<<20, 20<<20, 256<<20), Thresholds{}); len(f) != 1 || !strings.Contains(f[0].Advice, "raise the container's memory limit") {
		t.Errorf("no room at all: %+v", f)
	}
	s := snap(262<<20, 120<<20, 60<<20, 256<<20)
	s.Memory.Heap = nil
	if f := HeapLimitAboveContainer(s, Thresholds{}); len(f) != 0 {
		t.Errorf("without heap data: %+v", f)
	}
}

// ref returns a pointer to v.
func ref[T any](v T) *T { return &v }

func TestMemoryHeadroom(t *testing.T) {
	c := &model.Container{Memory: model.ContainerMemory{LimitBytes: ref(uint64(512 << 20)), WorkingSetBytes: ref(uint64(470 << 20))}}
	if h, ok := c.MemoryHeadroom(); !ok || h != 42<<20 {
		t.Errorf("headroom %d %v", h, ok)
	}
	c.Memory.WorkingSetBytes = ref(uint64(600 << 20))
	if h, ok := c.MemoryHeadroom(); !ok || h != 0 {
		t.Errorf("over the limit: %d %v", h, ok)
	}
	if _, ok := (&model.Container{}).MemoryHeadroom(); ok {
		t.Error("no limit")
	}
	if _, ok := (*model.Container)(nil).MemoryHeadroom(); ok {
		t.Error("nil")
	}
}

// severities maps each finding's code to its severity.
func severities(fs []model.Finding) map[string]model.Severity {
	out := map[string]model.Severity{}
	for _, f := range fs {
		out[string(f.Code)] = f.Severity
	}
	return out
}

// intOf is an integer evidence value, or -1.
func intOf(v evidence.Value) int64 {
	if n, ok := v.Int(); ok {
		return n
	}
	return -1
}
