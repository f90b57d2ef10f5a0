package ps

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
	"github.com/nodeinspect/nodeinspect/probes"
)

// TestPSWindowFindings: ps on a fake tree flags what report would, including what the
// window decides: a gateway whose CLOSE_WAIT connections to an upstream hold data that is
// never read (STALLED_SOCKETS from the /proc tables: the queues keep their size), a server
// whose accept queue stays full (LISTEN_BACKLOG), and an inspector on 0.0.0.0
// (INSPECTOR_EXPOSED). Without a window neither STALLED_SOCKETS nor LISTEN_BACKLOG.
func TestPSWindowFindings(t *testing.T) {
	tree, err := fakeproc.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	proc := func(pid int, cmdline ...string) fakeproc.Proc {
		return fakeproc.Proc{PID: pid, PPID: 1, PGID: pid, SID: pid, Comm: "node", State: "S", Threads: 11,
			StartTicks: 360000, UID: 1000, Exe: "/usr/bin/node", Cmdline: cmdline, RSSKB: 60000,
			SoftNofile: 1024, HardNofile: 4096, Syscall: "281 0x3 0x0\n",
			FDs: []fakeproc.FD{{Num: 0, Target: "/dev/null"}, {Num: 3, Target: "anon_inode:[eventpoll]"}}}
	}
	gw := proc(5000, "node", "gateway.js")
	for i := 0; i < 12; i++ {
		ino := uint64(7000 + i)
		gw.FDs = append(gw.FDs, fakeproc.FD{Num: 10 + i, Target: fmt.Sprintf("socket:[%d]", ino)})
		gw.Sockets = append(gw.Sockets, fakeproc.Socket{Proto: "tcp", State: "08", Local: fmt.Sprintf("10.0.0.1:%d", 33000+i), Remote: "10.0.0.9:9000", RxQueue: 40001, Inode: ino})
	}
	backlog := proc(5100, "node", "blocked.js")
	backlog.FDs = append(backlog.FDs, fakeproc.FD{Num: 9, Target: "socket:[8000]"})
	backlog.Sockets = []fakeproc.Socket{{Proto: "tcp", State: "0A", Local: "0.0.0.0:8080", Remote: "0.0.0.0:0", RxQueue: 7, Inode: 8000}}
	insp := proc(5200, "node", "--inspect=0.0.0.0:9229", "app.js")
	insp.FDs = append(insp.FDs, fakeproc.FD{Num: 9, Target: "socket:[9000]"})
	insp.Sockets = []fakeproc.Socket{{Proto: "tcp", State: "0A", Local: "0.0.0.0:9229", Remote: "0.0.0.0:0", Inode: 9000}}
	// One network namespace: every process's net/* tables list all its sockets.
	all := slices.Concat(gw.Sockets, backlog.Sockets, insp.Sockets)
	for _, p := range []fakeproc.Proc{gw, backlog, insp} {
		p.Sockets = all
		if err := tree.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	c := inspect.NewCollector(probes.NewFS(tree.Root))
	flags := func(sample time.Duration) map[int][]model.Code {
		res, err := Scan(context.Background(), c, Options{Thresholds: rules.DefaultThresholds(), Sample: sample})
		if err != nil {
			t.Fatal(err)
		}
		out := map[int][]model.Code{}
		for _, r := range res.Processes {
			out[r.PID] = r.Flags
		}
		return out
	}
	start := time.Now()
	got := flags(50 * time.Millisecond)
	took := time.Since(start)
	for pid, want := range map[int][]model.Code{
		5000: {"CLOSE_WAIT_LEAK", "STALLED_SOCKETS"},
		5100: {"LISTEN_BACKLOG"},
		5200: {"INSPECTOR_EXPOSED"},
	} {
		if !slices.Equal(got[pid], want) {
			t.Errorf("pid %d flags %v, want %v", pid, got[pid], want)
		}
	}
	// One window for all: 50 ms and the reads, not one window per process.
	if took < 50*time.Millisecond {
		t.Errorf("ps took %s: the window was not waited for", took)
	}
	got = flags(0)
	if !slices.Equal(got[5000], []model.Code{"CLOSE_WAIT_LEAK"}) || len(got[5100]) != 0 || !slices.Equal(got[5200], []model.Code{"INSPECTOR_EXPOSED"}) {
		t.Errorf("without a window: %v", got)
	}
}
