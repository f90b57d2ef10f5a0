package inspect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/probes"

	"github.com/nodeinspect/nodeinspect/internal/units"
)

// Headroom is the memory a heap snapshot may use in the target without pushing it (or its
// host) into the OOM killer: V8 builds the snapshot's graph inside the process, which can
// take about as much again as the heap (nodejs/node#50711).
type Headroom struct {
	// RSSBytes is the process's resident memory (VmRSS of /proc/<pid>/status); nil when
	// unreadable.
	RSSBytes *uint64 `json:"rss_bytes"`
	// HeapUsedBytes is V8's heap used, the extra a snapshot may need.
	HeapUsedBytes uint64 `json:"heap_used_bytes"`
	// AvailableBytes is the least of the host's MemAvailable and the memory cgroup's limit
	// minus its usage; Source says which one it is ("host" or "cgroup <path>").
	AvailableBytes uint64 `json:"available_bytes"`
	Source         string `json:"source"`
}

// Fits reports whether the snapshot's extra memory (the heap used) fits in what is
// available.
func (h Headroom) Fits() bool { return h.HeapUsedBytes <= h.AvailableBytes }

// Sentence is the numbers, for the refusal and the warnings.
func (h Headroom) Sentence() string {
	rss := "unknown"
	if h.RSSBytes != nil {
		rss = units.Bytes(*h.RSSBytes)
	}
	return fmt.Sprintf("process RSS %s, V8 heap used %s (a snapshot may need as much again), available %s (%s)", rss, units.Bytes(h.HeapUsedBytes), units.Bytes(h.AvailableBytes), h.Source)
}

// CgroupRoot is where cgroup hierarchies are mounted; a variable for tests.
var CgroupRoot = "/sys/fs/cgroup"

// ReadHeadroom measures what a snapshot of pid may use. heapUsed comes from the target.
// Until the Container section of a snapshot is in this tree, the cgroup is read here
// (memory.max/memory.current on v2, memory.limit_in_bytes/memory.usage_in_bytes on v1);
// when it is, Snapshot.Container.MemoryHeadroom() is the one definition to use.
// NODEINSPECT_MEM_AVAILABLE (bytes) replaces the measurement, for tests.
func ReadHeadroom(ctx context.Context, fs probes.FS, pid int, heapUsed uint64) (Headroom, error) {
	h := Headroom{HeapUsedBytes: heapUsed}
	if st, err := fs.ReadStatus(pid); err == nil {
		h.RSSBytes = st.VmRSS
	}
	if v := os.Getenv("NODEINSPECT_MEM_AVAILABLE"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return h, fmt.Errorf("NODEINSPECT_MEM_AVAILABLE %q is not a number of bytes: %w", v, err)
		}
		h.AvailableBytes, h.Source = n, "NODEINSPECT_MEM_AVAILABLE"
		return h, nil
	}
	host, err := fs.ReadHostMemory(ctx)
	if err != nil {
		return h, err
	}
	h.AvailableBytes, h.Source = host.Available, "host MemAvailable"
	data, err := os.ReadFile(fs.PidPath(pid, "cgroup"))
	if err != nil {
		return h, nil // the host's figure stands
	}
	for _, cg := range ParseMemoryCgroups(string(data)) {
		limit, usage, ok := readCgroupMemory(cg)
		if !ok {
			continue
		}
		room := limit - min(limit, usage)
		if room < h.AvailableBytes {
			h.AvailableBytes, h.Source = room, fmt.Sprintf("memory cgroup %s: limit %s, usage %s", cg.Path, units.Bytes(limit), units.Bytes(usage))
		}
	}
	return h, nil
}

// MemoryCgroup is the memory cgroup of a process: Version 1 or 2 and its path in that
// hierarchy.
type MemoryCgroup struct {
	Version int
	Path    string
}

// ParseMemoryCgroups reads /proc/<pid>/cgroup ("ID:CONTROLLERS:PATH" lines) and returns the
// v1 memory controller's cgroup and the v2 unified one ("0::PATH"). Malformed lines are
// skipped.
func ParseMemoryCgroups(text string) []MemoryCgroup {
	var out []MemoryCgroup
	for _, line := range strings.Split(text, "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		ctrls, path, ok := strings.Cut(rest, ":")
		if !ok || !strings.HasPrefix(path, "/") || strings.Contains(path, "/../") || strings.HasSuffix(path, "/..") {
			continue
		}
		switch {
		case id == "0" && ctrls == "":
			out = append(out, MemoryCgroup{Version: 2, Path: path})
		case contains(strings.Split(ctrls, ","), "memory"):
			out = append(out, MemoryCgroup{Version: 1, Path: path})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// readCgroupMemory reads a cgroup's memory limit and usage; ok is false without a limit.
func readCgroupMemory(cg MemoryCgroup) (limit, usage uint64, ok bool) {
	var dir, limitFile, usageFile string
	if cg.Version == 1 {
		dir, limitFile, usageFile = filepath.Join(CgroupRoot, "memory", cg.Path), "memory.limit_in_bytes", "memory.usage_in_bytes"
	} else {
		dir, limitFile, usageFile = filepath.Join(CgroupRoot, cg.Path), "memory.max", "memory.current"
		if _, err := os.Stat(filepath.Join(dir, limitFile)); err != nil {
			dir = filepath.Join(CgroupRoot, "unified", cg.Path)
		}
	}
	num := func(name string) (uint64, bool) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return 0, false
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		return v, err == nil
	}
	limit, ok = num(limitFile)
	// v1 writes "no limit" as a huge number (PAGE_COUNTER_MAX pages); v2 as "max".
	if !ok || limit >= 1<<62 {
		return 0, 0, false
	}
	usage, ok = num(usageFile)
	return limit, usage, ok
}
