package probes

import (
	"errors"
	"reflect"
	"testing"
)

// A real fdinfo of an epoll fd of node's event loop (Linux 6.18).
const epollFdinfo = "pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\n" +
	"tfd:       17 events:       19 data:               11  pos:0 ino:40e sdev:10\n" +
	"tfd:       19 events:       19 data:               13  pos:0 ino:5ad1 sdev:9\n" +
	"tfd:       15 events:       19 data:                f  pos:0 ino:5acc sdev:f\n"

func TestParseEpollFdinfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []EpollTarget
	}{
		{"node's event loop", epollFdinfo, []EpollTarget{{17, 0x19, 0x40e}, {19, 0x19, 0x5ad1}, {15, 0x19, 0x5acc}}},
		{"never run: no tfd lines", "pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\n", nil},
		{"empty file", "", nil},
		{"compact spacing", "tfd:3 events:1 data:3 pos:0 ino:ff sdev:9\n", []EpollTarget{{3, 1, 0xff}}},
		{"no trailing newline", "tfd:       4 events:       1 data: 4  pos:0 ino:10 sdev:9", []EpollTarget{{4, 1, 0x10}}},
		{"unknown keys are skipped", "tfd: 5 events: 1 data: 5 pos:0 ino:a sdev:9 future:7\n", []EpollTarget{{5, 1, 0xa}}},
	} {
		got, err := ParseEpollFdinfo([]byte(tc.in))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v %v, want %+v", tc.name, got, err, tc.want)
		}
	}
	for _, bad := range []string{
		"tfd:       x events:       19 data: 11 pos:0 ino:40e sdev:10\n",
		"tfd:       -3 events: 19 data: 11 pos:0 ino:40e sdev:10\n",
		"tfd:       17 events:       zz data: 11 pos:0 ino:40e sdev:10\n",
		"tfd:       17 events:       19 data: 11 pos:0 ino:nothex sdev:10\n",
		"tfd:       17 events:\n",
		"tfd:       17 garbage ino:1\n",
		"tfd:\n",
	} {
		if _, err := ParseEpollFdinfo([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseEpollFdinfo(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func FuzzParseEpollFdinfo(f *testing.F) {
	f.Add([]byte(epollFdinfo))
	f.Add([]byte("tfd:\n"))
	f.Add([]byte("tfd: 1 events: 1 ino: 1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseEpollFdinfo(data)
		for _, x := range got {
			if x.FD < 0 {
				t.Fatalf("negative fd from %q", data)
			}
		}
		_ = err
	})
}

func TestParseSyscallCall(t *testing.T) {
	c, err := ParseSyscallCall([]byte("281 0x14 0x7ffc25198430 0x400 0xffffffff 0x0 0x8 0x7ffc251976d0 0x7f44aa446cae\n"))
	if err != nil || c.Nr != 281 || len(c.Args) != 6 || c.Args[0] != 20 || c.Args[3] != 0xffffffff {
		t.Fatalf("epoll_pwait: %+v %v", c, err)
	}
	same, _ := ParseSyscallCall([]byte("281 0x14 0x7ffc25198430 0x400 0xffffffff 0x0 0x8 0x1 0x2\n"))
	other, _ := ParseSyscallCall([]byte("281 0xe 0x7ffc25198430 0x400 0xffffffff 0x0 0x8 0x1 0x2\n"))
	running, _ := ParseSyscallCall([]byte("running\n"))
	if !c.Same(same) || c.Same(other) || c.Same(running) || !running.Same(running) {
		t.Errorf("Same: the stack and program counter do not matter, the fd does")
	}
	if c, err := ParseSyscallCall([]byte("-1 0x7ffe 0x7f4a\n")); err != nil || c.Nr != -1 || c.Args != nil {
		t.Errorf("outside a call: %+v %v", c, err)
	}
	for _, bad := range []string{"", "281 0x14 0xzz 0x400 0x0 0x0 0x8 0x1 0x2", "281 0x14 0x1 0x400 0x0 0x0 -8 0x1 0x2", "x 0x1"} {
		if _, err := ParseSyscallCall([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseSyscallCall(%q) = %v", bad, err)
		}
	}
}

func FuzzParseSyscallCall(f *testing.F) {
	f.Add([]byte("281 0x14 0x7ffc25198430 0x400 0xffffffff 0x0 0x8 0x7ffc251976d0 0x7f44aa446cae\n"))
	f.Add([]byte("running\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseSyscallCall(data)
		if err == nil && c.Args != nil && len(c.Args) != 6 {
			t.Fatalf("%d args from %q", len(c.Args), data)
		}
	})
}

func TestTaskCounterParsers(t *testing.T) {
	r, w, err := ParseTaskIO([]byte("rchar: 4096\nwchar: 2048\nsyscr: 8570\nsyscw: 8471\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n"))
	if err != nil || r != 8570 || w != 8471 {
		t.Errorf("io: %d %d %v", r, w, err)
	}
	for _, bad := range []string{"", "rchar: 1\n", "syscr: 1\n", "syscr: x\nsyscw: 1\n", "syscr: -1\nsyscw: 1\n"} {
		if _, _, err := ParseTaskIO([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseTaskIO(%q) = %v", bad, err)
		}
	}
	v, n, err := ParseCtxtSwitches([]byte("Name:\tnode\nvoluntary_ctxt_switches:\t317\nnonvoluntary_ctxt_switches:\t7026\n"))
	if err != nil || v != 317 || n != 7026 {
		t.Errorf("ctxt: %d %d %v", v, n, err)
	}
	for _, bad := range []string{"Name:\tnode\n", "voluntary_ctxt_switches:\t1\n", "voluntary_ctxt_switches:\tx\nnonvoluntary_ctxt_switches:\t1\n"} {
		if _, _, err := ParseCtxtSwitches([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCtxtSwitches(%q) = %v", bad, err)
		}
	}
	run, wait, err := ParseSchedstat([]byte("1657530875 3270333481 9756\n"))
	if err != nil || run != 1657530875 || wait != 3270333481 {
		t.Errorf("schedstat: %d %d %v", run, wait, err)
	}
	for _, bad := range []string{"", "1 2", "1 2 3 4", "a 2 3", "1 b 3", "1 2 c", "-1 2 3"} {
		if _, _, err := ParseSchedstat([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseSchedstat(%q) = %v", bad, err)
		}
	}
}

func FuzzParseTaskIO(f *testing.F) {
	f.Add([]byte("syscr: 1\nsyscw: 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) { _, _, _ = ParseTaskIO(data) })
}

func FuzzParseCtxtSwitches(f *testing.F) {
	f.Add([]byte("voluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t2\n"))
	f.Fuzz(func(t *testing.T, data []byte) { _, _, _ = ParseCtxtSwitches(data) })
}

func FuzzParseSchedstat(f *testing.F) {
	f.Add([]byte("1 2 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) { _, _, _ = ParseSchedstat(data) })
}
