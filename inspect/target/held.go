package target

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/probes"
)

// cgroupRoot is where the cgroup hierarchies are mounted (a variable for tests).
var cgroupRoot = "/sys/fs/cgroup"

// HeldReason says why pid cannot run its event loop now, "" when nothing holds it: stopped
// (state T, SIGSTOP or a terminal's job control), stopped by a tracer (state t), traced
// (TracerPid, e.g. gdb -p or strace), or frozen by the cgroup freezer (v1 freezer.state
// FROZEN/FREEZING, v2 cgroup.events "frozen 1"). An inspector opened in such a process opens
// only when it runs again, possibly long after nodeinspect has given up.
func HeldReason(fs probes.FS, pid int) (string, error) {
	st, err := fs.ReadStat(pid)
	if err != nil {
		return "", err
	}
	switch st.State {
	case "T":
		return "stopped (state T: SIGSTOP or job control)", nil
	case "t":
		return "stopped by a tracer (state t)", nil
	}
	data, err := os.ReadFile(fs.PidPath(pid, "status"))
	if err != nil {
		return "", err
	}
	if tracer := tracerPid(data); tracer > 0 {
		return fmt.Sprintf("traced by process %d (TracerPid: a debugger or strace holds it)", tracer), nil
	}
	cg, err := os.ReadFile(fs.PidPath(pid, "cgroup"))
	if err != nil {
		return "", nil // no cgroup file: no freezer either
	}
	if why := frozenBy(cg); why != "" {
		return why, nil
	}
	return "", nil
}

// tracerPid reads the TracerPid line of a status file (0 when absent or malformed).
func tracerPid(status []byte) int {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "TracerPid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// frozenBy reads the freezer state of each cgroup a /proc/<pid>/cgroup file names and says
// which one freezes the process ("" when none does or none can be read).
func frozenBy(cgroupFile []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(cgroupFile))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 || strings.Contains(parts[2], "..") {
			continue
		}
		ctrls, path := parts[1], parts[2]
		for _, c := range strings.Split(ctrls, ",") {
			if c != "freezer" {
				continue
			}
			f := filepath.Join(cgroupRoot, "freezer", path, "freezer.state")
			if b, err := os.ReadFile(f); err == nil {
				if s := strings.TrimSpace(string(b)); s == "FROZEN" || s == "FREEZING" {
					return fmt.Sprintf("frozen by the cgroup freezer (%s is %s)", f, s)
				}
			}
		}
		if ctrls == "" && parts[0] == "0" {
			for _, base := range []string{filepath.Join(cgroupRoot, "unified"), cgroupRoot} {
				f := filepath.Join(base, path, "cgroup.events")
				b, err := os.ReadFile(f)
				if err != nil {
					continue
				}
				if bytes.Contains(b, []byte("\nfrozen 1")) || bytes.HasPrefix(b, []byte("frozen 1")) {
					return fmt.Sprintf("frozen by its cgroup (%s says frozen 1)", f)
				}
			}
		}
	}
	return ""
}
