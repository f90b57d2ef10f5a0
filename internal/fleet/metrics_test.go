package fleet

import (
	"strings"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// find returns the value of the one sample of f whose label values are values.
func find(t *testing.T, samples []Sample, f *Family, values ...string) (float64, bool) {
	t.Helper()
	for _, s := range samples {
		if s.Family == f && strings.Join(s.Values, "\x00") == strings.Join(values, "\x00") {
			return s.Value, true
		}
	}
	return 0, false
}

func TestContainerAndLoopSeries(t *testing.T) {
	u := func(v uint64) *uint64 { return &v }
	ctr := "0123456789ab"
	inContainer := model.PSRow{PID: 10, Container: &ctr, CPUThrottledPeriodsTotal: u(42),
		Flags:    []model.Code{"CONTAINER_MEMORY_NEAR_LIMIT"},
		Findings: []model.Finding{{Code: "CONTAINER_MEMORY_NEAR_LIMIT", Severity: model.SeverityCritical}},
		Snapshot: &model.Snapshot{
			Container: &model.Container{Memory: model.ContainerMemory{LimitBytes: u(512 << 20), WorkingSetBytes: u(500 << 20), OOMKills: u(2)}},
			EventLoop: &model.EventLoop{Verdict: "saturated"},
		}}
	blockedByFlag := model.PSRow{PID: 11, Flags: []model.Code{"EVENT_LOOP_BLOCKED"}, Snapshot: &model.Snapshot{}}
	unknown := model.PSRow{PID: 12, Snapshot: &model.Snapshot{EventLoop: &model.EventLoop{Verdict: "unknown"}}}
	scan := &Scan{Duration: 250 * time.Millisecond, Processes: []Proc{
		{Row: inContainer, Service: "api", Container: ctr},
		{Row: blockedByFlag, Service: "worker"},
		{Row: unknown, Service: "idle"},
	}, ErrorsTotal: map[string]uint64{"fds": 3}}
	s := Samples(scan)
	checks := []struct {
		f      *Family
		values []string
		want   float64
	}{
		{CtrWorkingSet, []string{"api", ctr}, 500 << 20},
		{CtrLimit, []string{"api", ctr}, 512 << 20},
		{CtrOOMKills, []string{"api", ctr}, 2},
		{CtrThrottled, []string{"api", ctr}, 42},
		{Saturated, []string{"api", ctr}, 1},
		{Blocked, []string{"api", ctr}, 0},
		{Blocked, []string{"worker", ""}, 1},
		{Saturated, []string{"worker", ""}, 0},
		{Finding, []string{"api", ctr, "CONTAINER_MEMORY_NEAR_LIMIT", "critical"}, 1},
		{ScrapeTime, nil, 0.25},
		{Processes, nil, 3},
		{ProbeErrors, []string{"fds"}, 3},
		{ProbeErrors, []string{"timeout"}, 0},
	}
	for _, c := range checks {
		got, ok := find(t, s, c.f, c.values...)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.f.Name, c.values, got, ok, c.want)
		}
	}
	// Unknown loop verdict: no loop series (absent, not 0); no container series outside one.
	for _, f := range []*Family{Blocked, Saturated} {
		if _, ok := find(t, s, f, "idle", ""); ok {
			t.Errorf("%s present for an unknown verdict", f.Name)
		}
	}
	for _, f := range []*Family{CtrWorkingSet, CtrLimit, CtrOOMKills, CtrThrottled} {
		if _, ok := find(t, s, f, "worker", ""); ok {
			t.Errorf("%s present outside a container", f.Name)
		}
	}
	// Every sample has as many values as its family has labels (client_golang would
	// refuse the metric otherwise).
	for _, x := range s {
		if len(x.Values) != len(x.Family.Labels) {
			t.Errorf("%s: %d values for labels %v", x.Family.Name, len(x.Values), x.Family.Labels)
		}
	}
}

func TestCmdlineLabelIsBounded(t *testing.T) {
	long := []string{"node", strings.Repeat("é", 400)}
	got := cmdlineLabel(long)
	if len(got) > maxCmdlineLabel+len("…") || !strings.HasSuffix(got, "…") {
		t.Fatalf("cmdline label of %d bytes: %q", len(got), got)
	}
	if s := labelValue("a\xffb"); s != "a\uFFFDb" {
		t.Fatalf("labelValue = %q", s)
	}
}
