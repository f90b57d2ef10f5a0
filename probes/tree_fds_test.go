package probes

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestIsOrphan(t *testing.T) {
	stats := []Stat{
		{PID: 1, PPID: 0, PGID: 1, SID: 1},
		{PID: 2, PPID: 0, PGID: 0, SID: 0},
		{PID: 50, PPID: 2, PGID: 0, SID: 0, Flags: pfKthread},
		{PID: 100, PPID: 1, PGID: 100, SID: 100},   // a service: its own session
		{PID: 101, PPID: 100, PGID: 100, SID: 100}, // its child: fine
		{PID: 200, PPID: 1, PGID: 199, SID: 190},   // its group leader died: orphan
		{PID: 300, PPID: 1, PGID: 300, SID: 290},   // a job whose shell left: orphan
		{PID: 400, PPID: 390, PGID: 400, SID: 390}, // a job of a live shell
		{PID: 390, PPID: 1, PGID: 390, SID: 390},
		{PID: 500, PPID: 7777, PGID: 499, SID: 499}, // parent unknown: no claim
		{PID: 600, PPID: 101, PGID: 599, SID: 100},  // joined another group, parent elsewhere: orphan-shaped
	}
	tree := NewTree(stats)
	want := map[int]bool{1: false, 2: false, 50: false, 100: false, 101: false, 200: true, 300: true, 400: false, 390: false, 500: false, 600: true}
	for _, s := range stats {
		if got := IsOrphan(tree, s); got != want[s.PID] {
			t.Errorf("pid %d: orphan %v, want %v", s.PID, got, want[s.PID])
		}
	}
	if o := tree.OrphansOf(199, -1); len(o) != 1 || o[0].PID != 200 {
		t.Errorf("OrphansOf(199) = %+v", o)
	}
	if c := tree.Children(100); len(c) != 1 || c[0].PID != 101 {
		t.Errorf("Children(100) = %+v", c)
	}
}

// TestReadFDsOfThisProcess reads the test process's own fd table with one fd of each kind.
func TestReadFDsOfThisProcess(t *testing.T) {
	dir := t.TempDir()
	deleted, err := os.Create(filepath.Join(dir, "gone.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer deleted.Close()
	if _, err := deleted.Write(make([]byte, 12345)); err != nil {
		t.Fatal(err)
	}
	os.Remove(deleted.Name())
	liar, err := os.Create(filepath.Join(dir, "alive (deleted)"))
	if err != nil {
		t.Fatal(err)
	}
	defer liar.Close()
	d, _ := os.Open(dir)
	defer d.Close()
	null, _ := os.Open("/dev/null")
	defer null.Close()
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	efd, _ := unix.Eventfd(0, unix.EFD_CLOEXEC)
	defer unix.Close(efd)
	epfd, _ := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	defer unix.Close(epfd)
	tfd, _ := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC)
	defer unix.Close(tfd)
	ifd, _ := unix.InotifyInit1(unix.IN_CLOEXEC)
	defer unix.Close(ifd)

	lnFile, _ := ln.(*net.TCPListener).File()
	defer lnFile.Close()

	entries, _, err := NewFS("").ReadFDs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	byFD := map[int]FDEntry{}
	for _, e := range entries {
		byFD[e.FD] = e
	}
	check := func(fd int, typ string) FDEntry {
		t.Helper()
		e, ok := byFD[fd]
		if !ok || e.Type != typ {
			t.Errorf("fd %d: %+v, want type %s", fd, e, typ)
		}
		return e
	}
	if e := check(int(deleted.Fd()), "file"); !e.Deleted || e.Size == nil || *e.Size != 12345 {
		t.Errorf("deleted file: %+v", e)
	}
	if e := check(int(liar.Fd()), "file"); e.Deleted {
		t.Errorf("a live file named '(deleted)' is not deleted: %+v", e)
	}
	check(int(d.Fd()), "dir")
	check(int(null.Fd()), "char")
	check(int(r.Fd()), "pipe")
	if e := check(int(lnFile.Fd()), "socket"); e.Inode == 0 {
		t.Errorf("socket without inode: %+v", e)
	}
	check(efd, "eventfd")
	check(epfd, "epoll")
	check(tfd, "timerfd")
	check(ifd, "inotify")
	for i := 1; i < len(entries); i++ {
		if entries[i-1].FD >= entries[i].FD {
			t.Fatal("entries not sorted by fd")
		}
	}
	if _, _, err := NewFS("").ReadFDs(1 << 22); !IsGone(err) {
		t.Errorf("missing process: %v", err)
	}
}

// TestReadSocketsPathsAgree proves the netlink and /proc paths give identical rows for the
// same process.
func TestReadSocketsPathsAgree(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	for i := 0; i < 5; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		s, _ := ln.Accept()
		conns = append(conns, s)
	}
	conns[0].Close() // its peer goes to CLOSE_WAIT
	ln6, err := net.Listen("tcp6", "[::1]:0")
	if err == nil {
		defer ln6.Close()
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	fs := NewFS("")
	entries, _, err := fs.ReadFDs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	mine := map[uint64]bool{}
	for _, e := range entries {
		if e.Type == "socket" {
			mine[e.Inode] = true
		}
	}
	want := func(i uint64) bool { return mine[i] }
	fast, errs := fs.ReadSockets(os.Getpid(), want)
	slow, errs2 := fs.readSocketTables(os.Getpid(), socketTables, want, nil)
	if len(errs) > 0 || len(errs2) > 0 {
		t.Fatal(errs, errs2)
	}
	index := func(list []Socket) map[uint64]Socket {
		m := map[uint64]Socket{}
		for _, s := range list {
			s.UID, s.Backlog = 0, 0
			m[s.Inode] = s
		}
		return m
	}
	a, b := index(fast), index(slow)
	if len(a) != len(b) || len(a) < 11 {
		t.Fatalf("netlink %d rows, /proc %d rows", len(a), len(b))
	}
	closeWait := 0
	for ino, s := range b {
		if a[ino] != s {
			t.Errorf("inode %d:\n netlink %+v\n /proc   %+v", ino, a[ino], s)
		}
		if s.State == "CLOSE_WAIT" {
			closeWait++
		}
	}
	if closeWait != 1 {
		t.Errorf("want 1 CLOSE_WAIT, got %d", closeWait)
	}
}

func TestIsKernelThread(t *testing.T) {
	for _, c := range []struct {
		s    Stat
		want bool
	}{
		{Stat{PID: 2, PPID: 0}, true},
		{Stat{PID: 50, PPID: 2}, true},
		{Stat{PID: 900, PPID: 1, Flags: pfKthread}, true},
		{Stat{PID: 1, PPID: 0}, false},
		{Stat{PID: 4242, PPID: 1, Flags: 4194304}, false},
	} {
		if got := c.s.IsKernelThread(); got != c.want {
			t.Errorf("%+v: IsKernelThread = %v, want %v", c.s, got, c.want)
		}
	}
}

// TestSelectTables: ReadSockets(protos...) reads the tables of those protocols only, in the
// order of all six.
func TestSelectTables(t *testing.T) {
	names := func(ts []socketTable) string {
		var out []string
		for _, t := range ts {
			out = append(out, t.name)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		protos []string
		want   string
	}{
		{nil, "tcp,tcp6,udp,udp6,unix,netlink"},
		{[]string{ProtoTCP}, "tcp,tcp6"},
		{[]string{ProtoNetlink, ProtoUDP, ProtoUnix}, "udp,udp6,unix,netlink"},
		{[]string{"sctp"}, ""},
	} {
		if got := names(selectTables(c.protos)); got != c.want {
			t.Errorf("selectTables(%v) = %s, want %s", c.protos, got, c.want)
		}
	}
}

// TestSockDiagFallbackError: the note of a sock_diag fallback says what was read instead
// and what is missing, carries why, and is told apart from a table that failed.
func TestSockDiagFallbackError(t *testing.T) {
	why := errors.New("netlink: protocol not supported")
	var err error = &SockDiagFallbackError{Dir: "/proc/42/net", Err: why}
	if !IsSockDiagFallback(err) || !errors.Is(err, why) {
		t.Fatalf("%v: not a fallback, or lost its cause", err)
	}
	for _, want := range []string{"sock_diag", "/proc/42/net", "instead", "backlog", "protocol not supported"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	q := &SockDiagFallbackError{Dir: "/proc/42/net", Err: why, Lost: "the byte counters"}
	if !strings.Contains(q.Error(), "byte counters") {
		t.Errorf("%q", q)
	}
	if IsSockDiagFallback(fmt.Errorf("/proc/42/net/tcp: %w", ErrMalformed)) {
		t.Error("a failed table counted as a fallback")
	}
}
