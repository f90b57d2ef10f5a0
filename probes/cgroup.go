package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// The cgroup a process belongs to (/proc/<pid>/cgroup) and where its directory is mounted
// (/proc/<pid>/mountinfo). cgroup(7): each line of /proc/<pid>/cgroup is
// "hierarchy-ID:controller-list:cgroup-path"; the v2 line is "0::path". Paths are relative
// to the cgroup namespace of the process reading the file, so a cgroup outside the reader's
// namespace reads "/../..."; mountinfo's root field of a cgroup mount is shown the same way,
// which is why the two are matched by plain string prefix, never cleaned.

// CgroupEntry is one line of /proc/<pid>/cgroup.
type CgroupEntry struct {
	// HierarchyID is 0 for the v2 (unified) hierarchy.
	HierarchyID int
	// Controllers are the v1 controllers bound to the hierarchy ("cpu", "cpuacct", or a
	// named hierarchy "name=systemd"); nil on the v2 line.
	Controllers []string
	// Path is the cgroup path as the kernel wrote it (it may begin with "/..").
	Path string
}

// Has reports whether the entry's hierarchy carries controller.
func (e CgroupEntry) Has(controller string) bool {
	for _, c := range e.Controllers {
		if c == controller {
			return true
		}
	}
	return false
}

// ParseProcCgroup parses /proc/<pid>/cgroup. A cgroup name may hold ':', so each line is
// split on the first two only.
func ParseProcCgroup(data []byte) ([]CgroupEntry, error) {
	var out []CgroupEntry
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			return nil, fmt.Errorf("cgroup line %q: %w", quote([]byte(line)), ErrMalformed)
		}
		id, err := strconv.Atoi(parts[0])
		if err != nil || id < 0 {
			return nil, fmt.Errorf("cgroup line %q: hierarchy id: %w", quote([]byte(line)), ErrMalformed)
		}
		e := CgroupEntry{HierarchyID: id, Path: parts[2]}
		if parts[1] != "" {
			e.Controllers = strings.Split(parts[1], ",")
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cgroup %q: no entries: %w", quote(data), ErrMalformed)
	}
	return out, nil
}

// ReadProcCgroup reads /proc/<pid>/cgroup.
func (p FS) ReadProcCgroup(pid int) ([]CgroupEntry, error) {
	data, err := ReadFile(p.PidPath(pid, "cgroup"))
	if err != nil {
		return nil, err
	}
	return ParseProcCgroup(data)
}

// CgroupMount is a mounted cgroup hierarchy, from a mountinfo line whose file system type is
// cgroup or cgroup2.
type CgroupMount struct {
	// Version is 1 (fs type "cgroup") or 2 ("cgroup2").
	Version int
	// Controllers are the v1 mount's super options that name controllers ("memory",
	// "name=systemd"); nil for v2, whose controllers are in cgroup.controllers.
	Controllers []string
	// Root is the cgroup path mounted here, in the reader's cgroup namespace ("/" for a
	// whole hierarchy, "/.." for a cgroup above the namespace root).
	Root string
	// MountPoint is where it is mounted, in the mount namespace of the mountinfo's owner.
	MountPoint string
}

// Has reports whether the mount carries the v1 controller.
func (m CgroupMount) Has(controller string) bool {
	for _, c := range m.Controllers {
		if c == controller {
			return true
		}
	}
	return false
}

// notControllers are super options of a v1 cgroup mount that name no controller.
var notControllers = map[string]bool{"rw": true, "ro": true, "noprefix": true, "clone_children": true,
	"xattr": true, "cpuset_v2_mode": true, "favordynmods": true, "none": true, "all": true}

// ParseCgroupMounts returns the cgroup and cgroup2 mounts of a mountinfo file
// (proc_pid_mountinfo(5)): "id parent major:minor root mount-point options [optional...] -
// fstype source super-options". Other lines are skipped; a line that cannot be split is an
// error.
func ParseCgroupMounts(data []byte) ([]CgroupMount, error) {
	var out []CgroupMount
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		before, after, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(before), strings.Fields(after)
		if !ok || len(f) < 6 || len(g) < 2 {
			return nil, fmt.Errorf("mountinfo line %q: %w", quote([]byte(line)), ErrMalformed)
		}
		var m CgroupMount
		switch g[0] {
		case "cgroup":
			m.Version = 1
			if len(g) >= 3 {
				for _, o := range strings.Split(g[2], ",") {
					if notControllers[o] || (strings.Contains(o, "=") && !strings.HasPrefix(o, "name=")) {
						continue
					}
					m.Controllers = append(m.Controllers, o)
				}
			}
		case "cgroup2":
			m.Version = 2
		default:
			continue
		}
		m.Root, m.MountPoint = unescapeMountinfo(f[3]), unescapeMountinfo(f[4])
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mountinfo: %w", err)
	}
	return out, nil
}

// unescapeMountinfo undoes the kernel's octal escapes of space, tab, newline and backslash
// (\040, \011, \012, \134) in mountinfo paths; anything else is kept as written.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ReadSelfCgroupMounts reads the cgroup mounts of the reading process (<root>/self/mountinfo):
// its own view of where each hierarchy is mounted.
func (p FS) ReadSelfCgroupMounts() ([]CgroupMount, error) {
	data, err := ReadFile(p.Path("self", "mountinfo"))
	if err != nil {
		return nil, err
	}
	return ParseCgroupMounts(data)
}

// ReadCgroupMounts reads the cgroup mounts of process pid (/proc/<pid>/mountinfo, which
// needs ptrace access). Its mount points are in pid's mount namespace: reach them through
// /proc/<pid>/root.
func (p FS) ReadCgroupMounts(pid int) ([]CgroupMount, error) {
	data, err := ReadFile(p.PidPath(pid, "mountinfo"))
	if err != nil {
		return nil, err
	}
	return ParseCgroupMounts(data)
}

// Dir maps a cgroup path of this mount's hierarchy to its directory under prefix+MountPoint,
// and returns the directory of the mount's root too (the highest cgroup visible through
// it). ok is false when the path is not below Root, or would climb out of the mount with
// "..".
func (m CgroupMount) Dir(prefix, cgroupPath string) (dir, top string, ok bool) {
	rel := cgroupPath
	if m.Root != "/" {
		if cgroupPath != m.Root && !strings.HasPrefix(cgroupPath, m.Root+"/") {
			return "", "", false
		}
		rel = cgroupPath[len(m.Root):]
	}
	for _, part := range strings.Split(rel, "/") {
		if part == ".." {
			return "", "", false
		}
	}
	top = filepath.Join(prefix, m.MountPoint)
	return filepath.Join(top, rel), top, true
}
