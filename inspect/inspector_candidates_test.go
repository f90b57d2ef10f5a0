package inspect

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/inspectorsock"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/probes"
)

// fakeThreads writes a fake /proc/<pid> with the given task syscall lines and epoll
// watch lists (epoll fd -> watched socket inodes, hex in the file as the kernel writes it).
func fakeThreads(t *testing.T, pid string, tasks map[string]string, epolls map[string][]string) probes.FS {
	t.Helper()
	root := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for tid, line := range tasks {
		write(filepath.Join(pid, "task", tid, "syscall"), line+"\n")
	}
	for epfd, inodes := range epolls {
		info := "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n"
		for i, ino := range inodes {
			info += "tfd:       " + strconv.Itoa(20+i) + " events:       19 data:               17  pos:0 ino:" + ino + " sdev:9\n"
		}
		write(filepath.Join(pid, "fdinfo", epfd), info)
	}
	return probes.NewFS(root)
}

func TestClassifyListeners(t *testing.T) {
	const app, insp, worker, unwatched = 0x64f9, 0x64fa, 0x64fb, 0x64fc
	cases := []struct {
		name        string
		tasks       map[string]string
		epolls      map[string][]string
		wantApp     []uint64
		wantOffMain []uint64
	}{
		{
			name: "idle: main loop and inspector thread both waiting",
			tasks: map[string]string{
				"10": "281 0xe 0x7ffd 0x400 0xffffffff 0x0 0x8",
				"11": "281 0x12 0x7f00 0x400 0xffffffff 0x0 0x8",
				"12": "202 0x1c04bb30 0x189 0x0 0x0 0x0 0xffffffff",
			},
			epolls:      map[string][]string{"14": {"64f9"}, "18": {"64fa"}},
			wantApp:     []uint64{app},
			wantOffMain: []uint64{insp},
		},
		{
			// The case of the leak: the main thread is running (a timer, a saturated
			// loop): the app's server is unknown, and not offered for a probe.
			name: "main thread running",
			tasks: map[string]string{
				"10": "running",
				"11": "281 0x12 0x7f00 0x400 0xffffffff 0x0 0x8",
			},
			epolls:      map[string][]string{"14": {"64f9"}, "18": {"64fa"}},
			wantOffMain: []uint64{insp},
		},
		{
			// Inside spawnSync the main thread waits on its private loop's epoll: the
			// main loop's epoll has no waiter, its server stays unknown.
			name: "main thread in spawnSync",
			tasks: map[string]string{
				"10": "281 0x1e 0x7ffd 0x400 0xffffffff 0x0 0x8",
				"11": "281 0x12 0x7f00 0x400 0xffffffff 0x0 0x8",
			},
			epolls:      map[string][]string{"14": {"64f9"}, "18": {"64fa"}, "30": {"1"}},
			wantOffMain: []uint64{insp},
		},
		{
			name: "a worker's listener and one nobody watches",
			tasks: map[string]string{
				"10": "281 0xe 0x7ffd 0x400 0xffffffff 0x0 0x8",
				"11": "281 0x12 0x7f00 0x400 0xffffffff 0x0 0x8",
				"13": "232 0x16 0x7f00 0x400 0xffffffff 0x0 0x8",
			},
			epolls:      map[string][]string{"14": {"64f9"}, "18": {"64fa"}, "22": {"64fb"}},
			wantApp:     []uint64{app},
			wantOffMain: []uint64{insp, worker},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := fakeThreads(t, "10", c.tasks, c.epolls)
			got, err := inspectorsock.ClassifyListenersTries(fs, 10, []uint64{app, insp, worker, unwatched}, 2, 0)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, set map[uint64]bool, want []uint64) {
				if len(set) != len(want) {
					t.Errorf("%s = %v, want %v", what, set, want)
				}
				for _, ino := range want {
					if !set[ino] {
						t.Errorf("%s = %v, want %v", what, set, want)
					}
				}
			}
			check("app", got.App, c.wantApp)
			check("offMain", got.OffMain, c.wantOffMain)
		})
	}
}

func TestClassifyListenersUnreadable(t *testing.T) {
	fs := probes.NewFS(t.TempDir()) // no such process
	if _, err := inspectorsock.ClassifyListenersTries(fs, 10, []uint64{1}, 2, 0); err == nil {
		t.Fatal("no error for threads that cannot be read")
	}
	got, err := inspectorsock.ClassifyListenersTries(fs, 10, nil, 2, 0)
	if err != nil || len(got.App)+len(got.OffMain) != 0 {
		t.Fatalf("no listeners: %+v, %v", got, err)
	}
}

// TestInspectorByEpollFakeTree: the main thread waits on epoll 14 (the app's listener),
// the inspector thread on 18 (a listener on a random port), a worker thread on 24 (its own
// listener on the same host): the inspector's is the one of the lowest waiting thread.
func TestInspectorByEpollFakeTree(t *testing.T) {
	root := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("50/task/50/syscall", "281 0xe 0x0\n")
	write("50/task/57/syscall", "281 0x12 0x0\n")
	write("50/task/58/syscall", "281 0x18 0x0\n")
	write("50/task/52/syscall", "202 0x1 0x0\n")
	write("50/fdinfo/14", "tfd: 25 events: 19 data: 19 pos:0 ino:64fa sdev:9\n")
	write("50/fdinfo/18", "tfd: 23 events: 19 data: 17 pos:0 ino:64f9 sdev:9\ntfd: 21 events: 19 data: 15 pos:0 ino:40e sdev:10\n")
	write("50/fdinfo/24", "tfd: 31 events: 19 data: 1f pos:0 ino:6500 sdev:9\n")
	write("50/fdinfo/9", "tfd: 13 events: 19 data: d pos:0 ino:40e sdev:10\n")
	fds := []model.FD{
		{FD: 9, Type: "epoll"}, {FD: 14, Type: "epoll"}, {FD: 18, Type: "epoll"}, {FD: 24, Type: "epoll"},
		tcp(23, "LISTEN", "0.0.0.0:38017", "0.0.0.0:0", 0, 0x64f9),
		tcp(25, "LISTEN", "0.0.0.0:8080", "0.0.0.0:0", 0, 0x64fa),
		tcp(31, "LISTEN", "0.0.0.0:40000", "0.0.0.0:0", 0, 0x6500),
	}
	fs := probes.NewFS(root)
	cfg := inspectorsock.Settings([]string{"node", "--inspect=0.0.0.0:0", "app.js"}, "")
	got, err := inspectorsock.ByEpoll(fs, 50, fds, cfg)
	if err != nil || len(got) != 1 || !got[0x64f9] {
		t.Fatalf("inspector inodes = %v, %v; want only 0x64f9", got, err)
	}
	s := fdSnapshot(1024, 0, fds...)
	f := inspectorFindings(s, rules.EvalContext{InspectorPorts: cfg.Ports, InspectorInodes: got})
	if len(f) != 1 || f[0].Code != "INSPECTOR_EXPOSED" || f[0].Evidence["port"] != evidence.Int(38017) || f[0].Evidence["detected_by"] != evidence.Text("epoll") {
		t.Errorf("findings = %v", f)
	}
	// The host filter: --inspect=127.0.0.1:0 cannot be a listener on 0.0.0.0.
	if got, _ := inspectorsock.ByEpoll(fs, 50, fds, inspectorsock.Settings([]string{"node", "--inspect=127.0.0.1:0", "x.js"}, "")); len(got) != 0 {
		t.Errorf("host filter: %v", got)
	}
	// No inspector option: not looked for (a worker's listener is not an inspector).
	if got, err := inspectorsock.ByEpoll(fs, 50, fds, inspectorsock.Settings([]string{"node", "app.js"}, "")); got != nil || err != nil {
		t.Errorf("no option: %v %v", got, err)
	}
	// NODE_OPTIONS counts (process.title may have rewritten the command line).
	if got, _ := inspectorsock.ByEpoll(fs, 50, fds, inspectorsock.Settings([]string{"my-title"}, "--inspect=0.0.0.0:0")); !got[0x64f9] {
		t.Errorf("NODE_OPTIONS: %v", got)
	}
	// The main thread busy (not in epoll): an error, and no guess.
	write("50/task/50/syscall", "running\n")
	if got, err := inspectorsock.ByEpollTries(fs, 50, fds, cfg, 2); err == nil || got != nil {
		t.Errorf("busy main thread: %v %v", got, err)
	}
}
