package probes

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The value formats of cgroup interface files (Documentation/admin-guide/cgroup-v2.rst,
// "Interface Files", and the v1 documents): a single number, "max", a flat keyed list
// ("key value" per line), and the pressure (PSI) lines.

// Max is a limit that may be unlimited ("max" in v2; a page-rounded LONG_MAX or -1 in v1).
type Max struct {
	// Value is the limit (bytes, pids, or microseconds of quota), when not Unlimited.
	Value uint64
	// Unlimited is true when no limit is set.
	Unlimited bool
}

// Less reports whether m is a tighter limit than o.
func (m Max) Less(o Max) bool {
	switch {
	case m.Unlimited:
		return false
	case o.Unlimited:
		return true
	}
	return m.Value < o.Value
}

// v1Unlimited is the smallest value a v1 memory limit file shows for "no limit": the kernel
// writes PAGE_COUNTER_MAX pages, LONG_MAX rounded down to the page size
// (9223372036854771712 with 4 KiB pages). 1 MiB of slack covers every page size (64 KiB on
// arm64 gives 9223372036854710272).
const v1Unlimited = math.MaxInt64 - (1 << 20)

// trimValue returns the file's text without surrounding blanks.
func trimValue(data []byte) string { return strings.TrimSpace(string(data)) }

// ParseCgroupUint parses a file holding one unsigned number (memory.current, pids.current).
func ParseCgroupUint(data []byte) (uint64, error) {
	s := trimValue(data)
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("number %q: %w", quote(data), ErrMalformed)
	}
	return n, nil
}

// ParseCgroupMax parses a v2 limit file ("max" or a number: memory.max, memory.high,
// pids.max; v1 pids.max has the same form).
func ParseCgroupMax(data []byte) (Max, error) {
	if trimValue(data) == "max" {
		return Max{Unlimited: true}, nil
	}
	n, err := ParseCgroupUint(data)
	if err != nil {
		return Max{}, err
	}
	return Max{Value: n}, nil
}

// ParseV1MemoryLimit parses memory.limit_in_bytes of cgroup v1, where "no limit" is a
// page-rounded LONG_MAX (v1Unlimited).
func ParseV1MemoryLimit(data []byte) (Max, error) {
	n, err := ParseCgroupUint(data)
	if err != nil {
		return Max{}, err
	}
	if n >= v1Unlimited {
		return Max{Unlimited: true}, nil
	}
	return Max{Value: n}, nil
}

// ParseV1CFSQuota parses cpu.cfs_quota_us of cgroup v1: microseconds per period, -1 for no
// quota.
func ParseV1CFSQuota(data []byte) (Max, error) {
	s := trimValue(data)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < -1 {
		return Max{}, fmt.Errorf("cfs quota %q: %w", quote(data), ErrMalformed)
	}
	if n == -1 {
		return Max{Unlimited: true}, nil
	}
	return Max{Value: uint64(n)}, nil
}

// ParseCPUMax parses cpu.max of cgroup v2: "$MAX $PERIOD" in microseconds, $MAX "max" for no
// quota. The period may be left out by older kernels' writers; the kernel always shows it.
func ParseCPUMax(data []byte) (quota Max, periodUS uint64, err error) {
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return Max{}, 0, fmt.Errorf("cpu.max %q: %w", quote(data), ErrMalformed)
	}
	if quota, err = ParseCgroupMax([]byte(f[0])); err != nil {
		return Max{}, 0, fmt.Errorf("cpu.max %q: quota: %w", quote(data), ErrMalformed)
	}
	if periodUS, err = strconv.ParseUint(f[1], 10, 64); err != nil || periodUS == 0 {
		return Max{}, 0, fmt.Errorf("cpu.max %q: period: %w", quote(data), ErrMalformed)
	}
	return quota, periodUS, nil
}

// ParseFlatKeyed parses a flat keyed file ("key value" per line: memory.stat, memory.events,
// cpu.stat, v1 memory.oom_control). Every value must be an unsigned number.
func ParseFlatKeyed(data []byte) (map[string]uint64, error) {
	out := map[string]uint64{}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %q: %w", quote([]byte(line)), ErrMalformed)
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", quote([]byte(line)), ErrMalformed)
		}
		out[f[0]] = n
	}
	return out, nil
}

// PSILine is one line of a pressure file: the share of wall time (percent) in which some
// (or all) tasks stalled on the resource, averaged over 10, 60 and 300 s, and the total
// stall time in microseconds.
type PSILine struct {
	Avg10, Avg60, Avg300 float64
	TotalUS              uint64
}

// PSI is a pressure file (memory.pressure, cpu.pressure; Documentation/accounting/psi.rst).
// Full is nil when the file has no "full" line (cpu.pressure before 5.13 at the root).
type PSI struct {
	Some PSILine
	Full *PSILine
}

// ParsePSI parses a pressure file: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and a
// "full" line of the same form.
func ParsePSI(data []byte) (PSI, error) {
	var out PSI
	seenSome := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 5 || (f[0] != "some" && f[0] != "full") {
			return PSI{}, fmt.Errorf("pressure line %q: %w", quote([]byte(line)), ErrMalformed)
		}
		var l PSILine
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			var err error
			switch {
			case !ok:
				err = ErrMalformed
			case k == "avg10":
				l.Avg10, err = parsePercent(v)
			case k == "avg60":
				l.Avg60, err = parsePercent(v)
			case k == "avg300":
				l.Avg300, err = parsePercent(v)
			case k == "total":
				l.TotalUS, err = strconv.ParseUint(v, 10, 64)
			default:
				err = ErrMalformed
			}
			if err != nil {
				return PSI{}, fmt.Errorf("pressure line %q: %w", quote([]byte(line)), ErrMalformed)
			}
		}
		if f[0] == "some" {
			out.Some, seenSome = l, true
		} else {
			full := l
			out.Full = &full
		}
	}
	if !seenSome {
		return PSI{}, fmt.Errorf("pressure %q: no \"some\" line: %w", quote(data), ErrMalformed)
	}
	return out, nil
}

// parsePercent reads a PSI average, a percentage with two decimals.
func parsePercent(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 100 || math.IsNaN(f) {
		return 0, ErrMalformed
	}
	return f, nil
}
