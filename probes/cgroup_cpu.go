package probes

import (
	"fmt"
	"path/filepath"
)

// CPUQuota is a CFS bandwidth limit: Quota microseconds of CPU time per Period
// microseconds (Documentation/scheduler/sched-bwc.rst).
type CPUQuota struct {
	Quota    Max
	PeriodUS uint64
}

// CPUs is the quota in CPUs (quota / period), or ok false when unlimited.
func (q CPUQuota) CPUs() (cpus float64, ok bool) {
	if q.Quota.Unlimited || q.PeriodUS == 0 {
		return 0, false
	}
	return float64(q.Quota.Value) / float64(q.PeriodUS), true
}

// CPUQuota reads cpu.max (v2) or cpu.cfs_quota_us and cpu.cfs_period_us (v1).
func (d CgroupDir) CPUQuota() (CPUQuota, error) {
	if d.Version == 2 {
		data, err := d.read("cpu.max")
		if err != nil {
			return CPUQuota{}, err
		}
		q, period, err := ParseCPUMax(data)
		if err != nil {
			return CPUQuota{}, fmt.Errorf("%s: %w", filepath.Join(d.Path, "cpu.max"), err)
		}
		return CPUQuota{Quota: q, PeriodUS: period}, nil
	}
	q, err := readWith(d, "cpu.cfs_quota_us", ParseV1CFSQuota)
	if err != nil {
		return CPUQuota{}, err
	}
	period, err := readWith(d, "cpu.cfs_period_us", ParseCgroupUint)
	if err != nil {
		return CPUQuota{}, err
	}
	return CPUQuota{Quota: q, PeriodUS: period}, nil
}

// CPUStat is the CFS bandwidth part of cpu.stat, counted since the cgroup was made.
type CPUStat struct {
	// Periods is nr_periods: enforcement periods that elapsed while the cgroup was runnable.
	Periods uint64
	// Throttled is nr_throttled: periods in which the cgroup used up its quota.
	Throttled uint64
	// ThrottledUS is the time its tasks were held back: throttled_usec (v2) or
	// throttled_time / 1000 (v1 counts nanoseconds).
	ThrottledUS uint64
}

// ParseCPUStat parses cpu.stat of either version. On v2 the bandwidth keys are only there
// when the cpu controller is enabled for the cgroup; their absence is an error.
func ParseCPUStat(data []byte, version int) (CPUStat, error) {
	s, err := ParseFlatKeyed(data)
	if err != nil {
		return CPUStat{}, err
	}
	timeKey, scale := "throttled_usec", uint64(1)
	if version == 1 {
		timeKey, scale = "throttled_time", 1000
	}
	periods, ok1 := s["nr_periods"]
	throttled, ok2 := s["nr_throttled"]
	t, ok3 := s[timeKey]
	if !ok1 || !ok2 || !ok3 {
		return CPUStat{}, fmt.Errorf("cpu.stat has no nr_periods, nr_throttled and %s (cpu controller not enabled here): %w", timeKey, ErrMalformed)
	}
	return CPUStat{Periods: periods, Throttled: throttled, ThrottledUS: t / scale}, nil
}

// CPUStat reads cpu.stat.
func (d CgroupDir) CPUStat() (CPUStat, error) {
	return readWith(d, "cpu.stat", func(b []byte) (CPUStat, error) { return ParseCPUStat(b, d.Version) })
}
