package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

// containerSnapshot is the healthy server in a Kubernetes container near its memory limit,
// throttled, with OOM kills and pids near the limit: every container finding, made by the
// real rules.
func containerSnapshot() *model.Snapshot {
	s := healthySnapshot()
	s.Memory.Heap = &model.Heap{UsedBytes: u64(150 * mib), TotalBytes: u64(180 * mib), LimitBytes: u64(4144 * mib), Source: "inspector"}
	s.Container = &model.Container{
		Cgroup:  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c_4b5a_6978_8a9b_acbdcedf0011.slice/cri-containerd-9b1c8f7e6d5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c.scope",
		Version: 2, ID: str("9b1c8f7e6d5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c"), PodUID: str("0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011"),
		Runtime: "containerd", PIDInContainer: intp(1),
		Memory: model.ContainerMemory{LimitBytes: u64(512 * mib), UsageBytes: u64(500 * mib), WorkingSetBytes: u64(470 * mib), PeakBytes: u64(506 * mib),
			OOMKills: u64(2), OOMKillsInWindow: u64(1), LimitCgroup: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c_4b5a_6978_8a9b_acbdcedf0011.slice/cri-containerd-9b1c8f7e6d5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c.scope"},
		CPU: model.ContainerCPU{QuotaCPUs: f64(0.5), Periods: u64(3), ThrottledPeriods: u64(3), ThrottledSeconds: f64(0.121), WindowSeconds: f64(0.302),
			LimitCgroup: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c_4b5a_6978_8a9b_acbdcedf0011.slice/cri-containerd-9b1c8f7e6d5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c.scope"},
		Pids:     model.ContainerPids{Current: u64(97), Max: u64(100), LimitCgroup: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c_4b5a_6978_8a9b_acbdcedf0011.slice"},
		Pressure: &model.ContainerPressure{MemorySomeAvg10: f64(3.25), CPUSomeAvg10: f64(41.5)},
	}
	s.Memory.RSSBytes = u64(460 * mib)
	s.Findings = rules.Evaluate(s, rules.EvalContext{Thresholds: rules.DefaultThresholds()})
	return s
}

func TestGoldenContainer(t *testing.T) {
	s := containerSnapshot()
	for _, code := range []model.Code{"CONTAINER_MEMORY_NEAR_LIMIT", "OOM_KILLED", "CPU_THROTTLED", "HEAP_LIMIT_ABOVE_CONTAINER", "PIDS_NEAR_LIMIT"} {
		if worstSeverity(s.Findings, code) == "" {
			t.Errorf("no %s in the fixture", code)
		}
	}
	for _, variant := range humanVariants {
		t.Run(variant.name, func(t *testing.T) {
			opt := variant.opt
			opt.View = ViewReport
			got := render(t, containerSnapshot(), opt)
			checkHuman(t, got, opt)
			if !strings.Contains(string(got), "pid 1 in the container") {
				t.Errorf("no pid in the container:\n%s", got)
			}
			golden(t, "container-report-"+variant.name, got)
		})
	}
	golden(t, "container-json", render(t, containerSnapshot(), Options{Format: FormatJSON}))
	// Outside a container nothing is said: the healthy report has no container line.
	if got := render(t, healthySnapshot(), Options{Format: FormatPlain}); strings.Contains(string(got), "container") {
		t.Errorf("container line outside a container:\n%s", got)
	}
}

// TestPSContainerColumn: the CONTAINER column appears when a process runs in a container.
func TestPSContainerColumn(t *testing.T) {
	res := psResult()
	res.Processes[3].Container = str("9b1c8f7e6d5a")
	for _, variant := range humanVariants {
		var buf bytes.Buffer
		opt := variant.opt
		opt.View = ViewPS
		if err := RenderPS(&buf, res, opt); err != nil {
			t.Fatal(err)
		}
		checkHuman(t, buf.Bytes(), opt)
		if !strings.Contains(buf.String(), "CONTAINER") || !strings.Contains(buf.String(), "9b1c8f7e6d5a") {
			t.Errorf("%s: no container column:\n%s", variant.name, buf.String())
		}
		golden(t, "ps-container-"+variant.name, buf.Bytes())
	}
	var buf bytes.Buffer
	if err := RenderPS(&buf, psResult(), Options{Format: FormatPlain}); err != nil || strings.Contains(buf.String(), "CONTAINER") {
		t.Errorf("a CONTAINER column without containers: %v\n%s", err, buf.String())
	}
}
