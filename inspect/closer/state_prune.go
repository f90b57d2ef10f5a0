package closer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nodeinspect/nodeinspect/inspect/target"
	"github.com/nodeinspect/nodeinspect/probes"
)

// stateName is a file of StateDir(): "<pid>-<start ticks>.json" (a closer's state),
// "<pid>-<start ticks>.lock" (a session lock), or a state file being written,
// "<pid>-<start ticks>.json.tmp<writer pid>".
var stateName = regexp.MustCompile(`^([0-9]+)-([0-9]+)\.(json|lock)(?:\.tmp([0-9]+))?$`)

// PruneState removes the files of StateDir() that belong to a process that is gone: its
// pid no longer exists, is a zombie, or was reused (the start ticks in the name differ
// from /proc/<pid>/stat field 22). Closer state whose closer still runs is kept whatever
// its target (the closer removes it itself), a lock another run holds is kept (it is
// locked before it is removed), and a half-written file is kept while its writer runs.
// Files it cannot judge (a name it does not know, a process it may not read) are kept.
// Runs at once may prune the same directory: a file already gone is not an error. It
// returns the names it removed.
func PruneState(fs probes.FS) ([]string, error) {
	dir := StateDir()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var removed []string
	var firstErr error
	for _, e := range ents {
		m := stateName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		pid, err1 := strconv.Atoi(m[1])
		ticks, err2 := strconv.ParseUint(m[2], 10, 64)
		if err1 != nil || err2 != nil || ProcessRuns(fs, pid, ticks) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		var ok bool
		switch {
		case m[4] != "":
			writer, err := strconv.Atoi(m[4])
			ok = err == nil && processGone(fs, writer)
			if ok {
				err = removeState(p)
			}
			firstErr = errors.Join(firstErr, err)
		case m[3] == "json":
			ok, err = pruneCloserState(fs, p)
			firstErr = errors.Join(firstErr, err)
		default:
			ok, err = pruneLock(p)
			firstErr = errors.Join(firstErr, err)
		}
		if ok {
			removed = append(removed, e.Name())
		}
	}
	return removed, firstErr
}

// pruneCloserState removes the state file p of a target that is gone, unless the closer
// it names still runs (a closer's pid reused by another program does not count).
func pruneCloserState(fs probes.FS, p string) (bool, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err == nil && st.CloserPID > 0 && closerRuns(fs, st.CloserPID, st.PID) {
		return false, nil
	}
	return true, removeState(p)
}

// pruneLock removes the session lock p of a target that is gone, once it holds the lock
// itself: a run that still holds it keeps it.
func pruneLock(p string) (bool, error) {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open %s: %w", p, err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return false, nil // held by a run right now
	}
	return true, removeState(p)
}

// removeState removes p; one already removed (a concurrent prune) is not an error.
func removeState(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	return nil
}

// ProcessRuns reports whether pid is the process that started at ticks and has not
// exited (checkGone); a process that cannot be read for another reason than its absence
// counts as running (nothing is removed on a guess).
func ProcessRuns(fs probes.FS, pid int, ticks uint64) bool {
	return target.GoneNow(fs, pid, ticks, "") == nil
}

// processGone reports whether pid is gone, whichever process it names (checkGone).
func processGone(fs probes.FS, pid int) bool {
	return target.GoneNow(fs, pid, 0, "") != nil
}

// closerRuns reports whether pid is a running closer for target: `nodeinspect __closer
// SPEC` whose spec names target.
func closerRuns(fs probes.FS, pid, target int) bool {
	if processGone(fs, pid) {
		return false
	}
	args, err := fs.ReadCmdline(pid)
	if err != nil {
		return !probes.IsGone(err)
	}
	i := slices.Index(args, CloserCommand)
	if i < 0 || i+1 >= len(args) {
		return false
	}
	var spec Spec
	if err := json.Unmarshal([]byte(args[i+1]), &spec); err != nil {
		return strings.Contains(args[i+1], fmt.Sprintf(`"pid":%d,`, target))
	}
	return spec.PID == target
}
