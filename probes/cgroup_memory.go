package probes

import (
	"fmt"
	"path/filepath"
)

// CgroupDir is the directory of one cgroup in a mounted hierarchy, and the hierarchy's
// version, which decides the names and formats of its files.
type CgroupDir struct {
	// Path is the directory, e.g. /sys/fs/cgroup/memory/kubepods/pod1/abc.
	Path string
	// Version is 1 or 2.
	Version int
}

// read reads one interface file of the cgroup.
func (d CgroupDir) read(name string) ([]byte, error) {
	return ReadFile(filepath.Join(d.Path, name))
}

// readWith reads one interface file and parses it, naming the file in the error.
func readWith[T any](d CgroupDir, name string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	data, err := d.read(name)
	if err != nil {
		return zero, err
	}
	v, err := parse(data)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", filepath.Join(d.Path, name), err)
	}
	return v, nil
}

// MemoryLimit reads the cgroup's own hard memory limit: memory.max (v2) or
// memory.limit_in_bytes (v1). Ancestors may set a lower one.
func (d CgroupDir) MemoryLimit() (Max, error) {
	if d.Version == 2 {
		return readWith(d, "memory.max", ParseCgroupMax)
	}
	return readWith(d, "memory.limit_in_bytes", ParseV1MemoryLimit)
}

// CgroupMemory is what one cgroup's memory files say. A nil field could not be read; the
// errors returned beside it say why.
type CgroupMemory struct {
	// UsageBytes is memory.current (v2) or memory.usage_in_bytes (v1): everything charged to
	// the cgroup, page cache and kernel memory included.
	UsageBytes *uint64
	// InactiveFileBytes is inactive_file of memory.stat (v2) or total_inactive_file (v1,
	// the hierarchical count): page cache the kernel reclaims first.
	InactiveFileBytes *uint64
	// High is memory.high (v2 only: the throttling threshold; nil on v1, which has none).
	High *Max
	// PeakBytes is memory.peak (v2, Linux 5.19+) or memory.max_usage_in_bytes (v1).
	PeakBytes *uint64
	// OOMKills is oom_kill of memory.events (v2, this cgroup and its descendants) or of
	// memory.oom_control (v1, Linux 4.13+).
	OOMKills *uint64
}

// Memory reads usage, inactive file, high, peak and OOM kills of the cgroup.
func (d CgroupDir) Memory() (CgroupMemory, []error) {
	var m CgroupMemory
	var errs []error
	usage, stat, peak, inactive := "memory.current", "memory.stat", "memory.peak", "inactive_file"
	if d.Version == 1 {
		usage, peak, inactive = "memory.usage_in_bytes", "memory.max_usage_in_bytes", "total_inactive_file"
	}
	into := func(dst **uint64, v uint64, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		*dst = &v
	}
	v, err := readWith(d, usage, ParseCgroupUint)
	into(&m.UsageBytes, v, err)
	v, err = readWith(d, peak, ParseCgroupUint)
	into(&m.PeakBytes, v, err)
	v, err = d.readKey(stat, inactive, "")
	into(&m.InactiveFileBytes, v, err)
	v, err = d.readKey(d.oomFile(), "oom_kill", " (kernel before 4.13?)")
	into(&m.OOMKills, v, err)
	if d.Version == 2 {
		if v, err := readWith(d, "memory.high", ParseCgroupMax); err == nil {
			m.High = &v
		} else {
			errs = append(errs, err)
		}
	}
	return m, errs
}

// OOMKills reads only the OOM kill count (memory.events or memory.oom_control), for the
// second read at the end of a sample window.
func (d CgroupDir) OOMKills() (uint64, error) { return d.readKey(d.oomFile(), "oom_kill", "") }

// oomFile is the file that counts the cgroup's OOM kills: memory.events (v2) or
// memory.oom_control (v1).
func (d CgroupDir) oomFile() string {
	if d.Version == 1 {
		return "memory.oom_control"
	}
	return "memory.events"
}

// readKey reads key of the flat-keyed file name ("key value" lines); a file without the
// key is ErrMalformed, its message followed by hint.
func (d CgroupDir) readKey(name, key, hint string) (uint64, error) {
	s, err := readWith(d, name, ParseFlatKeyed)
	if err != nil {
		return 0, err
	}
	v, ok := s[key]
	if !ok {
		return 0, fmt.Errorf("%s: no %s%s: %w", filepath.Join(d.Path, name), key, hint, ErrMalformed)
	}
	return v, nil
}
