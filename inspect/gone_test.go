package inspect

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/closer"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/session"
	"github.com/nodeinspect/nodeinspect/inspect/target"
	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
	"github.com/nodeinspect/nodeinspect/probes"
)

// TestCheckGone: the one "is the process gone?" predicate on fake /proc states, and the
// callers that decide it (recheckIdentity, exitedSince, processRuns) agree with it.
func TestCheckGone(t *testing.T) {
	tree, err := fakeproc.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const ticks = 360000
	cases := []struct {
		name   string
		pid    int
		state  string
		now    uint64 // start ticks written to the fake stat
		gone   bool
		reused bool
	}{
		{"running", 7001, "S", ticks, false, false},
		{"running R", 7002, "R", ticks, false, false},
		{"zombie", 7003, "Z", ticks, true, false},
		{"dead", 7004, "X", ticks, true, false},
		{"missing dir", 7005, "", 0, true, false},
		{"pid reused", 7006, "S", ticks + 500, true, true},
	}
	for _, c := range cases {
		if c.state == "" {
			continue
		}
		p := fakeproc.Proc{PID: c.pid, PPID: 1, PGID: c.pid, SID: c.pid, Comm: "node", State: c.state, StartTicks: c.now}
		if err := tree.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	pfs := probes.NewFS(tree.Root)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := target.GoneNow(pfs, c.pid, ticks, "while being read")
			if (err != nil) != c.gone {
				t.Fatalf("goneNow = %v, want gone %v", err, c.gone)
			}
			if c.gone && !errors.Is(err, model.ErrNoProcess) {
				t.Errorf("%v does not wrap ErrNoProcess", err)
			}
			var reused *model.PidReusedError
			if errors.As(err, &reused) != c.reused {
				t.Errorf("%v: reused %v, want %v", err, !c.reused, c.reused)
			}
			col := &collection{c: NewCollector(pfs), Target: &session.Target{FS: pfs, PID: c.pid, Stat: probes.Stat{PID: c.pid, StartTicks: ticks}}}
			if got := col.ExitedSince(); got != c.gone {
				t.Errorf("exitedSince = %v, want %v", got, c.gone)
			}
			if err := col.recheckIdentity(); (err != nil) != c.gone {
				t.Errorf("recheckIdentity = %v, want gone %v", err, c.gone)
			}
			if got := closer.ProcessRuns(pfs, c.pid, ticks); got == c.gone {
				t.Errorf("processRuns = %v, want %v", got, !c.gone)
			}
		})
	}
}

// TestCheckGoneUnreadable: a stat that cannot be read for another reason than the
// process's absence is no evidence that it is gone; ESRCH-like absence is.
func TestCheckGoneUnreadable(t *testing.T) {
	denied := fmt.Errorf("open /proc/1/stat: %w", fs.ErrPermission)
	if err := target.CheckGone(1, probes.Stat{}, denied, 5, ""); err != nil {
		t.Errorf("permission denied counted as gone: %v", err)
	}
	missing := fmt.Errorf("open /proc/1/stat: %w", fs.ErrNotExist)
	if err := target.CheckGone(1, probes.Stat{}, missing, 5, ""); !errors.Is(err, model.ErrNoProcess) {
		t.Errorf("missing stat: %v", err)
	}
	// A process inside do_exit() (PF_EXITING) still reads R but is gone.
	line := fakeproc.StatLine(fakeproc.Proc{PID: 1, Comm: "node", State: "R", StartTicks: 5})
	st, err := probes.ParseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	st.Flags |= pfExitingForTest
	if err := target.CheckGone(1, st, nil, 5, ""); !errors.Is(err, model.ErrNoProcess) {
		t.Errorf("PF_EXITING: %v", err)
	}
}

// pfExitingForTest is PF_EXITING (include/linux/sched.h), as probes.Stat.Exited reads it.
const pfExitingForTest = 0x4
