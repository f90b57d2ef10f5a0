package fakeproc

import (
	"fmt"
	"os"
	"path/filepath"
)

// Scenario builds one fake proc tree; Target is the pid a test inspects.
type Scenario struct {
	Name   string
	Target int
	Build  func(t *Tree) error
}

// node returns a Node.js server process with sane defaults.
func node(pid int) Proc {
	return Proc{
		PID: pid, PPID: 1, PGID: pid, SID: pid, Comm: "node", State: "S", Threads: 11,
		StartTicks: 360000, UID: 1000, Exe: "/usr/bin/node", Cmdline: []string{"node", "server.js"},
		RSSKB: 61440, HWMKB: 70000, AnonKB: 40960, FileKB: 20480, ShmemKB: 0, SwapKB: 0, PssKB: 58000,
		SoftNofile: 1024, HardNofile: 524288,
		FDs: []FD{
			{0, "/dev/null"}, {1, "pipe:[9001]"}, {2, "pipe:[9001]"},
			{3, "anon_inode:[eventpoll]"}, {4, "anon_inode:[eventfd]"}, {5, "anon_inode:[eventfd]"},
			{6, "anon_inode:[timerfd]"}, {7, "anon_inode:[signalfd]"},
		},
	}
}

// Scenarios are the fake trees of testdata/proc, one per pathology plus a healthy one.
var Scenarios = []Scenario{
	{Name: "healthy", Target: 4242, Build: func(t *Tree) error {
		p := node(4242)
		p.FDs = append(p.FDs, FD{20, "socket:[5000]"}, FD{21, "socket:[5001]"}, FD{22, "socket:[5002]"}, FD{23, "socket:[5003]"}, FD{24, "/srv/app/data.db"})
		p.Sockets = []Socket{
			{Proto: "tcp", State: "0A", Local: "127.0.0.1:8080", Remote: "0.0.0.0:0", Inode: 5000},
			{Proto: "tcp", State: "01", Local: "127.0.0.1:8080", Remote: "127.0.0.1:41000", Inode: 5001},
			{Proto: "tcp", State: "01", Local: "127.0.0.1:8080", Remote: "127.0.0.1:41001", Inode: 5002},
			{Proto: "unix", State: "03", Local: "", Inode: 5003},
			// Another process's sockets in the same namespace: not attributed.
			{Proto: "tcp", State: "08", Local: "10.0.0.1:443", Remote: "10.0.0.2:5555", Inode: 7777},
		}
		return t.Add(p)
	}},
	{Name: "fd-leak", Target: 4300, Build: func(t *Tree) error {
		p := node(4300)
		p.SoftNofile, p.HardNofile = 256, 256
		for i := 0; i < 240; i++ {
			p.FDs = append(p.FDs, FD{10 + i, fmt.Sprintf("/srv/app/uploads/chunk-%03d.bin", i)})
		}
		return t.Add(p)
	}},
	{Name: "close-wait", Target: 4400, Build: func(t *Tree) error {
		p := node(4400)
		p.FDs = append(p.FDs, FD{9, "socket:[6000]"})
		p.Sockets = append(p.Sockets, Socket{Proto: "tcp6", State: "0A", Local: "[::]:3000", Remote: "[::]:0", Inode: 6000})
		for i := 0; i < 120; i++ {
			ino := uint64(6001 + i)
			peer := "[::ffff:10.1.2.3]"
			if i%4 == 0 {
				peer = "[::ffff:10.1.2.4]"
			}
			p.FDs = append(p.FDs, FD{10 + i, fmt.Sprintf("socket:[%d]", ino)})
			p.Sockets = append(p.Sockets, Socket{Proto: "tcp6", State: "08", Local: "[::ffff:10.0.0.5]:3000", Remote: fmt.Sprintf("%s:%d", peer, 50000+i), RxQueue: 1, Inode: ino})
		}
		return t.Add(p)
	}},
	{Name: "zombies", Target: 4500, Build: func(t *Tree) error {
		p := node(4500)
		p.Syscall = "running\n"
		p.State = "R"
		p.Children = []int{4501, 4502, 4503}
		if err := t.Add(p); err != nil {
			return err
		}
		for _, c := range []int{4501, 4502, 4503} {
			if err := t.Add(Proc{PID: c, PPID: 4500, PGID: 4500, SID: 4500, Comm: "sh", State: "Z", StartTicks: 360100}); err != nil {
				return err
			}
		}
		return t.Add(Proc{PID: 4504, PPID: 4500, PGID: 4500, SID: 4500, Comm: "worker", State: "S", StartTicks: 360100, Exe: "/usr/bin/node", Cmdline: []string{"node", "worker.js"}, SoftNofile: 1024, HardNofile: 1024})
	}},
	{Name: "orphan", Target: 4601, Build: func(t *Tree) error {
		// 4600 was the parent; it was killed. 4601 and 4602 keep its pgid and sid.
		for _, pid := range []int{4601, 4602} {
			p := node(pid)
			p.PGID, p.SID = 4600, 4590
			p.Cmdline = []string{"node", "child.js"}
			if err := t.Add(p); err != nil {
				return err
			}
		}
		return t.Add(Proc{PID: 1, PPID: 0, PGID: 1, SID: 1, Comm: "init", State: "S", Exe: "/sbin/init", Cmdline: []string{"/sbin/init"}, SoftNofile: 1024, HardNofile: 1024})
	}},
	{Name: "blocked-futex", Target: 4700, Build: func(t *Tree) error {
		p := node(4700)
		p.Syscall = "202 0x7f00 0x80 0x0 0x0 0x0 0x0 0x7ffd 0x7f00\n"
		p.Wchan = "futex_do_wait"
		return t.Add(p)
	}},
	{Name: "deleted", Target: 4900, Build: func(t *Tree) error {
		// In a fake tree the links point nowhere, so "deleted" is judged from the link text
		// (the real check, st_nlink == 0 through the fd, is tested on real processes).
		p := node(4900)
		p.FDs = append(p.FDs, FD{20, "/var/log/app/out.log (deleted)"}, FD{21, "/tmp/upload-1.tmp (deleted)"}, FD{22, "/memfd:v8-code (deleted)"})
		return t.Add(p)
	}},
	// A main thread in execSync: epoll_wait on fd 20, a private loop watching the child's
	// stdio socketpair ends (inodes next to the child's), while the event loop's epoll
	// (14) idles and the platform thread waits on 9. Laid out as Node.js 20 lays it out.
	{Name: "spawnsync", Target: 5100, Build: func(t *Tree) error {
		p := spawnSyncNode(5100)
		p.Syscall = "281 0x14 0x7ffc25198430 0x400 0xffffffff 0x0 0x8 0x7ffc251976d0 0x7f44aa446cae\n"
		p.Wchan = "do_epoll_wait"
		p.Children = []int{5101}
		if err := t.Add(p); err != nil {
			return err
		}
		return t.Add(Proc{PID: 5101, PPID: 5100, PGID: 5100, SID: 5100, Comm: "sh", State: "S", StartTicks: 360100,
			Exe: "/usr/bin/dash", Cmdline: []string{"/bin/sh", "-c", "sleep 20"},
			FDs: []FD{{0, "socket:[23265]"}, {1, "socket:[23267]"}, {2, "socket:[23269]"}}})
	}},
	// The same process idle in its event loop (epoll 14), with an asynchronous child whose
	// stdio the event loop itself watches: not a private loop.
	{Name: "async-child", Target: 5200, Build: func(t *Tree) error {
		p := spawnSyncNode(5200)
		p.FDs = p.FDs[:len(p.FDs)-5] // no private loop
		delete(p.FDInfo, 20)
		p.FDInfo[14] += "tfd:       27 events:       19 data:               1b  pos:0 ino:5ae2 sdev:9\n"
		p.FDs = append(p.FDs, FD{27, "socket:[23266]"})
		p.Syscall = "281 0xe 0x7ffe7efbbcd0 0x400 0xffffffff 0x0 0x8 0x7ffe7efbaf70 0x7f09adaffcae\n"
		p.Children = []int{5201}
		if err := t.Add(p); err != nil {
			return err
		}
		return t.Add(Proc{PID: 5201, PPID: 5200, PGID: 5200, SID: 5200, Comm: "sleep", State: "S", StartTicks: 360100,
			Exe: "/usr/bin/sleep", Cmdline: []string{"sleep", "20"},
			FDs: []FD{{0, "socket:[23267]"}}})
	}},
	{Name: "hostile", Target: 4800, Build: func(t *Tree) error {
		p := node(4800)
		p.Comm = "x) Z 1 (y"
		p.Cmdline = []string{"x) Z 1 (y"}
		p.FDs = append(p.FDs,
			FD{10, "/tmp/with space/and\nnewline.txt"},
			FD{11, "/tmp/bad\xff\xfebytes.log"},
			FD{12, "/tmp/name (deleted) inside"},
			FD{13, "anon_inode:[io_uring]"},
			FD{14, "socket:[99999]"},
		)
		return t.Add(p)
	}},
}

// Build writes a scenario's tree below dir/<name> and returns the proc root.
func Build(dir string, s Scenario) (string, error) {
	root := filepath.Join(dir, s.Name)
	t, err := New(root)
	if err != nil {
		return "", err
	}
	if err := s.Build(t); err != nil {
		return "", fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	return root, nil
}

// spawnSyncNode is a Node.js 20 process with its epoll fds as node lays them out: 3 the
// tracing agent's loop (never run), 9 the platform's delayed-task loop (waited on by
// thread +1), 14 the event loop, 20 a spawnSync's private loop.
func spawnSyncNode(pid int) Proc {
	p := node(pid)
	p.FDs = []FD{
		{0, "/dev/null"}, {1, "pipe:[9001]"}, {2, "pipe:[9001]"},
		{3, "anon_inode:[eventpoll]"}, {4, "pipe:[23241]"}, {5, "pipe:[23241]"}, {6, "pipe:[23242]"}, {7, "pipe:[23242]"},
		{8, "anon_inode:[eventfd]"}, {9, "anon_inode:[eventpoll]"}, {11, "pipe:[23243]"}, {12, "pipe:[23243]"},
		{13, "anon_inode:[eventfd]"}, {14, "anon_inode:[eventpoll]"}, {15, "pipe:[23244]"}, {16, "pipe:[23244]"},
		{17, "anon_inode:[eventfd]"}, {19, "socket:[23249]"},
		{20, "anon_inode:[eventpoll]"}, {21, "pipe:[23263]"}, {23, "anon_inode:[eventfd]"}, {27, "socket:[23266]"}, {29, "socket:[23268]"},
	}
	head := "pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\n"
	p.FDInfo = map[int]string{
		3: head,
		9: head + "tfd:       13 events:       19 data:                d  pos:0 ino:40e sdev:10\n" +
			"tfd:       11 events:       19 data:                b  pos:0 ino:5acb sdev:f\n",
		14: head + "tfd:       17 events:       19 data:               11  pos:0 ino:40e sdev:10\n" +
			"tfd:       19 events:       19 data:               13  pos:0 ino:5ad1 sdev:9\n" +
			"tfd:       15 events:       19 data:                f  pos:0 ino:5acc sdev:f\n",
		20: head + "tfd:       21 events:       19 data:               15  pos:0 ino:5adf sdev:f\n" +
			"tfd:       27 events:       19 data:               1b  pos:0 ino:5ae2 sdev:9\n" +
			"tfd:       29 events:       19 data:               1d  pos:0 ino:5ae4 sdev:9\n" +
			"tfd:       23 events:       19 data:               17  pos:0 ino:40e sdev:10\n",
	}
	p.OtherThreads = map[int]string{pid + 1: "281 0x9 0x7f00 0x400 0xffffffff 0x0 0x8 0x7f00 0x7f00\n"}
	return p
}

// Copy builds the scenario called name below dir (a test's temporary directory, so that a
// test may break its files while the checked-in trees stay as they are) and returns the
// proc root and the scenario's target pid.
func Copy(dir, name string) (root string, target int, err error) {
	for _, s := range Scenarios {
		if s.Name == name {
			root, err := Build(dir, s)
			return root, s.Target, err
		}
	}
	return "", 0, fmt.Errorf("no scenario %q", name)
}

// Unreadable replaces the file at path with a directory: opening it works and reading it
// fails (EISDIR), as an unreadable /proc file would, even for root.
func Unreadable(path string) error {
	if err := os.Remove(path); err != nil {
		return err
	}
	return os.Mkdir(path, 0o755)
}
