package inspect

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

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
			got, err := classifyListenersTries(fs, 10, []uint64{app, insp, worker, unwatched}, 2, 0)
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
			check("app", got.app, c.wantApp)
			check("offMain", got.offMain, c.wantOffMain)
		})
	}
}

func TestClassifyListenersUnreadable(t *testing.T) {
	fs := probes.NewFS(t.TempDir()) // no such process
	if _, err := classifyListenersTries(fs, 10, []uint64{1}, 2, 0); err == nil {
		t.Fatal("no error for threads that cannot be read")
	}
	got, err := classifyListenersTries(fs, 10, nil, 2, 0)
	if err != nil || len(got.app)+len(got.offMain) != 0 {
		t.Fatalf("no listeners: %+v, %v", got, err)
	}
}
