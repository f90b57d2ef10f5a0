// Command bigproc writes a fake /proc tree (internal/fakeproc) holding one Node.js process
// with N socket fds, all ESTABLISHED TCP connections in its namespace's net/tcp, for
// `make bench` to measure nodeinspect's peak memory on a table larger than a real process
// may hold here (the hard RLIMIT_NOFILE is 20000). It prints the pid to inspect.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
)

const pid = 4242

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bigproc DIR N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n <= 0 {
		fmt.Fprintln(os.Stderr, "bigproc: N must be a positive integer")
		os.Exit(2)
	}
	tree, err := fakeproc.New(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigproc:", err)
		os.Exit(1)
	}
	p := fakeproc.Proc{
		PID: pid, PPID: 1, PGID: pid, SID: pid, Comm: "node", State: "S", Threads: 11,
		StartTicks: 360000, UID: 0, Exe: "/usr/bin/node", Cmdline: []string{"node", "server.js"},
		RSSKB: 61440, HWMKB: 70000, AnonKB: 40960, FileKB: 20480, PssKB: 58000,
		SoftNofile: uint64(2 * n), HardNofile: uint64(2 * n),
		Syscall: "281 0x3 0x7ffc 0x400 0xffffffff 0x0 0x8 0x7ffc 0x7f00", Wchan: "do_epoll_wait",
	}
	for i := 0; i < n; i++ {
		inode := uint64(1000000 + i)
		p.FDs = append(p.FDs, fakeproc.FD{Num: 10 + i, Target: fmt.Sprintf("socket:[%d]", inode)})
		state := "01"
		if i%10 == 0 {
			state = "08"
		}
		p.Sockets = append(p.Sockets, fakeproc.Socket{Proto: "tcp", State: state,
			Local:  fmt.Sprintf("10.0.%d.%d:8080", (i>>8)&255, i&255),
			Remote: fmt.Sprintf("10.1.%d.%d:%d", (i>>16)&255, (i>>8)&255, 1024+i%60000), Inode: inode})
	}
	if err := tree.Add(p); err != nil {
		fmt.Fprintln(os.Stderr, "bigproc:", err)
		os.Exit(1)
	}
	fmt.Println(pid)
}
