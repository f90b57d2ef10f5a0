package ps

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
	"github.com/nodeinspect/nodeinspect/probes"
)

// TestSharedWindowSettlesOnlyWhatItCan: in the window ps, top and serve share, an idle
// loop without a child is read a few times, not through the whole window, and is turning;
// a main thread in a spawnSync's private loop (it has a child) and one in a futex are read
// to the end and stay blocked, as report says.
func TestSharedWindowSettlesOnlyWhatItCan(t *testing.T) {
	tree, err := fakeproc.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	idle := fakeproc.Proc{PID: 6000, PPID: 1, PGID: 6000, SID: 6000, Comm: "node", State: "S", Threads: 11,
		StartTicks: 360000, UID: 1000, Exe: "/usr/bin/node", Cmdline: []string{"node", "idle.js"},
		SoftNofile: 1024, HardNofile: 4096, Syscall: "281 0x3 0x0 0x400 0xffffffff 0x0 0x8 0x7ffc 0x7f12\n",
		FDs: []fakeproc.FD{{Num: 3, Target: "anon_inode:[eventpoll]"}}}
	stuck := idle
	stuck.PID, stuck.PGID, stuck.SID = 6001, 6001, 6001
	stuck.Syscall = "202 0x7f00 0x80 0x0 0x0 0x0 0x0 0x7ffc 0x7f12\n"
	for _, p := range []fakeproc.Proc{idle, stuck} {
		if err := tree.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	const window = 200 * time.Millisecond
	c := inspect.NewCollector(probes.NewFS(tree.Root))
	loops, _ := c.SampleLoops(context.Background(), []int{6000, 6001}, window)
	if l := loops[6000]; l == nil || l.Verdict != "turning" || l.Reason != "idle" || l.Samples > 3 {
		t.Errorf("idle loop: %+v", l)
	}
	if l := loops[6001]; l == nil || l.Verdict != "blocked" || l.Samples < inspect.MinSamplesForVerdict {
		t.Errorf("loop in a futex: %+v", l)
	}

	spawn := inspect.NewCollector(probes.NewFS(filepath.Join("..", "..", "testdata", "proc", "spawnsync")))
	loops, _ = spawn.SampleLoops(context.Background(), []int{5100}, 60*time.Millisecond)
	if l := loops[5100]; l == nil || l.Verdict != "blocked" || l.Reason != "spawn_sync" || len(l.WaitingFor) != 1 {
		t.Errorf("spawnSync in the shared window: %+v", l)
	}
	async := inspect.NewCollector(probes.NewFS(filepath.Join("..", "..", "testdata", "proc", "async-child")))
	loops, _ = async.SampleLoops(context.Background(), []int{5200}, 60*time.Millisecond)
	if l := loops[5200]; l == nil || l.Verdict != "turning" {
		t.Errorf("idle loop with an async child in the shared window: %+v", l)
	}
}
