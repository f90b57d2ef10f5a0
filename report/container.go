package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// The container section: one line of identity, then memory, CPU, pids and pressure, each
// coloured like its finding. Nothing is shown outside a container (a nil section).

// containerIdentity is "cgroup /kubepods/... (v2), id 3f2a9c1b0e7d, pod 0f1e..., pid 1 in
// the container".
func containerIdentity(c *model.Container) string {
	parts := []string{"cgroup " + safe(c.Cgroup) + " (v" + strconv.Itoa(c.Version) + ")"}
	if c.ID != nil {
		id := safe(*c.ID)
		if len(id) > 12 {
			id = id[:12]
		}
		if c.Runtime != "" {
			id += " (" + safe(c.Runtime) + ")"
		}
		parts = append(parts, "id "+id)
	}
	if c.PodUID != nil {
		parts = append(parts, "pod "+safe(*c.PodUID))
	}
	if c.PIDInContainer != nil {
		parts = append(parts, "pid "+strconv.Itoa(*c.PIDInContainer)+" in the container")
	} else {
		parts = append(parts, "pid in the container "+notAvailable)
	}
	return strings.Join(parts, ", ")
}

// containerMemoryLine is "working set 180 MiB of 200 MiB (90.0%), usage 181 MiB, high
// 190 MiB, peak 199 MiB, 2 OOM kills (1 during the window)".
func containerMemoryLine(m model.ContainerMemory) string {
	var b strings.Builder
	b.WriteString("working set " + optBytes(m.WorkingSetBytes))
	if m.LimitBytes == nil {
		b.WriteString(", no limit")
	} else {
		b.WriteString(" of " + units.Bytes(*m.LimitBytes))
		if m.WorkingSetBytes != nil {
			if pct := ratioPercent(*m.WorkingSetBytes, *m.LimitBytes); pct != "" {
				b.WriteString(" (" + pct + ")")
			}
		}
	}
	b.WriteString(", usage " + optBytes(m.UsageBytes))
	if m.HighBytes != nil {
		b.WriteString(", high " + units.Bytes(*m.HighBytes))
	}
	b.WriteString(", peak " + optBytes(m.PeakBytes))
	switch {
	case m.OOMKills == nil:
		b.WriteString(", OOM kills " + notAvailable)
	default:
		b.WriteString(", " + units.Count(int(min(*m.OOMKills, 1<<31-1)), "OOM kill", "OOM kills"))
		if m.OOMKillsInWindow != nil && *m.OOMKillsInWindow > 0 {
			b.WriteString(" (" + strconv.FormatUint(*m.OOMKillsInWindow, 10) + " during the window)")
		}
	}
	return b.String()
}

// containerCPULine is "quota 0.2 CPUs, throttled in 9 of 10 periods (90.0%) over 1.0s, held
// back 812ms".
func containerCPULine(c model.ContainerCPU) string {
	out := "no quota"
	if c.QuotaCPUs != nil {
		out = "quota " + strconv.FormatFloat(*c.QuotaCPUs, 'g', 3, 64) + " CPUs"
	}
	if c.Periods == nil || c.ThrottledPeriods == nil {
		return out + ", throttling not measured"
	}
	window := ""
	if c.WindowSeconds != nil {
		window = " over " + formatDuration(time.Duration(*c.WindowSeconds*float64(time.Second)))
	}
	if *c.Periods == 0 {
		// nr_periods only counts periods in which the cgroup wanted the CPU.
		return out + ", idle (no CFS period used)" + window
	}
	out += ", throttled in " + strconv.FormatUint(*c.ThrottledPeriods, 10) + " of " + strconv.FormatUint(*c.Periods, 10) + " periods"
	if pct := ratioPercent(*c.ThrottledPeriods, *c.Periods); pct != "" {
		out += " (" + pct + ")"
	}
	out += window
	if c.ThrottledSeconds != nil && *c.ThrottledSeconds > 0 {
		out += ", held back " + formatDuration(time.Duration(*c.ThrottledSeconds*float64(time.Second)))
	}
	return out
}

// containerPidsLine is "12 of 100 tasks (12.0%)".
func containerPidsLine(p model.ContainerPids) string {
	cur := notAvailable
	if p.Current != nil {
		cur = strconv.FormatUint(*p.Current, 10)
	}
	if p.Max == nil {
		return cur + " tasks, no limit"
	}
	out := cur + " of " + strconv.FormatUint(*p.Max, 10) + " tasks"
	if p.Current != nil {
		if pct := ratioPercent(*p.Current, *p.Max); pct != "" {
			out += " (" + pct + ")"
		}
	}
	return out
}

// containerPressureLine is "memory 0.0%, cpu 12.5% (some, 10 s average)".
func containerPressureLine(p *model.ContainerPressure) string {
	if p == nil {
		return notAvailable
	}
	opt := func(v *float64) string {
		if v == nil {
			return notAvailable
		}
		return formatPercent(*v)
	}
	return "memory " + opt(p.MemorySomeAvg10) + ", cpu " + opt(p.CPUSomeAvg10) + " (some, 10 s average)"
}

// reportContainer writes the container field of the report view (nothing outside one).
func (r *renderer) reportContainer(s *model.Snapshot) {
	c := s.Container
	if c == nil {
		return
	}
	r.field("container", sp(containerIdentity(c)))
	memStyle := severityStyle(worstOf(s.Findings, model.CodeContainerMemoryNearLimit, model.CodeOOMKilled))
	r.more(sp("memory: "), span{containerMemoryLine(c.Memory), memStyle})
	r.more(sp("cpu: "), span{containerCPULine(c.CPU), severityStyle(worstSeverity(s.Findings, model.CodeCPUThrottled))})
	r.more(sp("pids: "), span{containerPidsLine(c.Pids), severityStyle(worstSeverity(s.Findings, model.CodePIDsNearLimit))})
	if c.Pressure != nil {
		r.more(sp("pressure: " + containerPressureLine(c.Pressure)))
	}
}

// containerRows are the container's rows of the Markdown key numbers.
func containerRows(t *table, s *model.Snapshot) {
	c := s.Container
	if c == nil {
		return
	}
	t.add(txt("container"), txt(containerIdentity(c)))
	t.add(txt("container memory"), styled(containerMemoryLine(c.Memory), severityStyle(worstOf(s.Findings, model.CodeContainerMemoryNearLimit, model.CodeOOMKilled))))
	t.add(txt("container cpu"), styled(containerCPULine(c.CPU), severityStyle(worstSeverity(s.Findings, model.CodeCPUThrottled))))
	t.add(txt("container pids"), styled(containerPidsLine(c.Pids), severityStyle(worstSeverity(s.Findings, model.CodePIDsNearLimit))))
	if c.Pressure != nil {
		t.add(txt("container pressure"), txt(containerPressureLine(c.Pressure)))
	}
}

// worstOf is the worst severity among findings of any of codes.
func worstOf(fs []model.Finding, codes ...model.Code) model.Severity {
	var worst model.Severity
	for _, code := range codes {
		if s := worstSeverity(fs, code); s.Rank() > worst.Rank() {
			worst = s
		}
	}
	return worst
}

// psContainer is the CONTAINER cell of ps: the short id, "pod:<uid>", or "-".
func psContainer(p model.PSRow) string {
	if p.Container == nil || *p.Container == "" {
		return "-"
	}
	return strings.ReplaceAll(safe(*p.Container), " ", "_")
}

// anyContainer reports whether any ps row runs in a container.
func anyContainer(res *model.PSResult) bool {
	for _, p := range res.Processes {
		if p.Container != nil {
			return true
		}
	}
	return false
}

// insertAt returns list with v inserted before index i.
func insertAt[T any](list []T, i int, v T) []T {
	return append(list[:i], append([]T{v}, list[i:]...)...)
}

// memContainer is the container line of the mem view: what the cgroup counts against its
// limit, which is what the OOM killer goes by (nothing outside a container).
func (r *renderer) memContainer(s *model.Snapshot) {
	if s.Container == nil {
		return
	}
	st := severityStyle(worstOf(s.Findings, model.CodeContainerMemoryNearLimit, model.CodeOOMKilled))
	r.line(r.paint(st, "container "+containerMemoryLine(s.Container.Memory)))
}
