package probes

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseEpollWatchList(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    []EpollWatch
		wantErr bool
	}{
		{"empty epoll", "pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\n", nil, false},
		{"node main loop", "pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\n" +
			"tfd:       15 events:       19 data:                f  pos:0 ino:64f3 sdev:f\n" +
			"tfd:       25 events:       19 data:               19  pos:0 ino:64fa sdev:9\n",
			[]EpollWatch{{15, 0x64f3}, {25, 0x64fa}}, false},
		{"no trailing newline", "tfd: 3 events: 19 data: 3 pos:0 ino:1 sdev:9", []EpollWatch{{3, 1}}, false},
		{"bad fd kept going", "tfd: x events: 19 ino:1\ntfd: 4 events: 19 data: 4 pos:0 ino:ff sdev:9\n", []EpollWatch{{4, 0xff}}, true},
		{"no inode", "tfd: 5 events: 19 data: 5\n", nil, true},
		{"bad inode", "tfd: 5 events: 19 ino:zz\n", nil, true},
		{"negative fd", "tfd: -1 ino:1\n", nil, true},
		{"tfd alone", "tfd:\n", nil, true},
		{"other lines ignored", "eventfd-count: 0\nid: 3\n", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseEpollWatchList([]byte(c.in))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestParseSyscallEpollFD(t *testing.T) {
	cases := []struct {
		in   string
		arch string
		fd   int
		ok   bool
	}{
		{"281 0xe 0x7ffe1cb551f0 0x400 0xffffffff 0x0 0x8 0x7ffe1cb55168 0x7f6143f4b0c6\n", "amd64", 14, true},
		{"232 0x12 0x0 0x0 0x0 0x0 0x0 0x0 0x0\n", "amd64", 18, true},
		{"441 0x3 0 0\n", "amd64", 3, true},
		{"202 0x17e248f0 0x189\n", "amd64", 0, false},
		{"running\n", "amd64", 0, false},
		{"-1 0x7ffe 0x0\n", "amd64", 0, false},
		{"281\n", "amd64", 0, false},
		{"281 14 0x0\n", "amd64", 0, false},
		{"281 0xzz\n", "amd64", 0, false},
		{"281 0xffffffffffff\n", "amd64", 0, false},
		{"22 0x5 0x0\n", "arm64", 5, true},
		{"281 0x5 0x0\n", "arm64", 0, false},
		{"", "amd64", 0, false},
	}
	for _, c := range cases {
		fd, ok := ParseSyscallEpollFD([]byte(c.in), c.arch)
		if fd != c.fd || ok != c.ok {
			t.Errorf("ParseSyscallEpollFD(%q, %s) = %d, %v; want %d, %v", c.in, c.arch, fd, ok, c.fd, c.ok)
		}
	}
}

func TestEpollWaitersAndWatchList(t *testing.T) {
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
	write("10/task/10/syscall", "281 0xe 0x0\n")
	write("10/task/11/syscall", "281 0x12 0x0\n")
	write("10/task/12/syscall", "202 0x1 0x189\n")
	write("10/task/13/syscall", "running\n")
	write("10/fdinfo/18", "pos:\t0\ntfd:       23 events:       19 data:               17  pos:0 ino:64f9 sdev:9\n")
	fs := NewFS(root)
	w, err := fs.EpollWaiters(10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][]int{14: {10}, 18: {11}}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("EpollWaiters = %v, want %v", w, want)
	}
	list, err := fs.ReadEpollWatchList(10, 18)
	if err != nil || !reflect.DeepEqual(list, []EpollWatch{{23, 0x64f9}}) {
		t.Errorf("ReadEpollWatchList = %v, %v", list, err)
	}
	if _, err := fs.ReadEpollWatchList(10, 99); !IsGone(err) {
		t.Errorf("missing fdinfo: err = %v, want not-exist", err)
	}
}

func FuzzParseEpollWatchList(f *testing.F) {
	f.Add([]byte("pos:\t0\ntfd:       23 events:       19 data:               17  pos:0 ino:64f9 sdev:9\n"))
	f.Add([]byte("tfd: 1 ino:\ntfd:"))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, _ := ParseEpollWatchList(data)
		for _, w := range list {
			if w.FD < 0 {
				t.Fatalf("negative fd %d", w.FD)
			}
		}
		ParseSyscallEpollFD(data, "amd64")
	})
}
