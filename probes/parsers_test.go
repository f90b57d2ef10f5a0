package probes

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A stat line of a real Node.js process on this machine.
const nodeStat = "23511 (node) S 23505 23505 1073 0 -1 4194304 2218 0 6 0 7 1 0 0 20 0 7 0 1658308 745713664 10026 18446744073709551615 11988992 39846385 140730551307280 0 0 0 0 16781312 17922 0 0 0 17 0 0 0 0 0 0 90418888 90555584 206573568 140730551315126 140730551315159 140730551315159 140730551316458 0\n"

func TestStatParsesRealAndHostileComms(t *testing.T) {
	s, err := ParseStat([]byte(nodeStat))
	if err != nil {
		t.Fatal(err)
	}
	want := Stat{PID: 23511, Comm: "node", State: "S", PPID: 23505, PGID: 23505, SID: 1073, TTY: 0, Flags: 4194304,
		UTime: 7, STime: 1, NumThreads: 7, StartTicks: 1658308, VSize: 745713664, RSSPages: 10026}
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	rest := nodeStat[strings.Index(nodeStat, ")")+1:]
	for _, comm := range []string{"x) Z 1 (y", "a b c", "((()))", "", "new\nline", ")", "(", "é\xff"} {
		s, err := ParseStat([]byte("42 (" + comm + ")" + rest))
		if err != nil {
			t.Errorf("comm %q: %v", comm, err)
			continue
		}
		if s.Comm != comm || s.State != "S" || s.PPID != 23505 || s.StartTicks != 1658308 {
			t.Errorf("comm %q: got %+v", comm, s)
		}
	}
}

func TestStatRejectsMalformed(t *testing.T) {
	for _, in := range []string{
		"", "42", "42 node S 1", "42 (node S 1 1 1", "x (node) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0 1 1 1",
		"42 (node) S 1 1 1", // truncated
		"42 (node) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0 99999999999999999999999 1 1", // overflow
		"42 (node) S one 1 1 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0 1 1 1",
	} {
		if _, err := ParseStat([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseStat(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

func FuzzStatText(f *testing.F) {
	f.Add([]byte(nodeStat))
	f.Add([]byte("1 (x) Z 1 (y) S 0 0 0"))
	f.Add([]byte("(()"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseStat(data)
		if err == nil && !bytes.Contains(data, []byte("("+s.Comm+")")) {
			t.Fatalf("comm %q not between parentheses of %q", s.Comm, data)
		}
	})
}

func TestStatusParsesRealFile(t *testing.T) {
	data := []byte("Name:\tnode\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t23511\nNgid:\t0\nPid:\t23511\nPPid:\t23505\nTracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t6\t7\t8\nFDSize:\t64\nGroups:\t\nNStgid:\t23511\nNSpid:\t23511\t7\nVmPeak:\t  745716 kB\nVmSize:\t  728232 kB\nVmHWM:\t   40108 kB\nVmRSS:\t   40104 kB\nRssAnon:\t    4568 kB\nRssFile:\t   35536 kB\nRssShmem:\t       0 kB\nVmSwap:\t       0 kB\nThreads:\t7\nSigQ:\t0/95706\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\nSigIgn:\t0000000001001000\nSigCgt:\t0000000188004602\n")
	s, err := ParseStatus(data)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "node" || s.State != "S" || s.PPid != 23505 || s.UIDs != [4]int{1000, 1001, 1002, 1003} || s.Threads != 7 {
		t.Errorf("got %+v", s)
	}
	if *s.VmRSS != 40104*1024 || *s.VmHWM != 40108*1024 || *s.RssAnon != 4568*1024 || *s.VmSwap != 0 || !reflect.DeepEqual(s.NSpid, []int{23511, 7}) {
		t.Errorf("memory %d %d", *s.VmRSS, *s.VmHWM)
	}
	// Node's default handlers, as a real Node 20's SigCgt reads (mask ...4602): SIGINT(2),
	// SIGUSR1(10), SIGTERM(15), SIGSEGV(11).
	for _, sig := range []int{2, 10, 11, 15} {
		if !s.Catches(sig) {
			t.Errorf("must catch %d", sig)
		}
	}
	if s.Catches(12) || !s.Ignores(13) || s.Catches(0) || s.Catches(65) {
		t.Errorf("SIGUSR2 not caught, SIGPIPE ignored, out of range false")
	}
	// A kernel thread or zombie has no memory lines: nil, not 0.
	z, err := ParseStatus([]byte("Name:\tsh\nState:\tZ (zombie)\nPPid:\t1\n"))
	if err != nil || z.VmRSS != nil || z.RssAnon != nil {
		t.Errorf("zombie: %+v %v", z, err)
	}
}

func TestStatusRejectsMalformed(t *testing.T) {
	for _, in := range []string{"", "garbage", "Name:\tx\nVmRSS:\tlots kB\n", "Name:\tx\nUid:\t1 2\n", "Name:\tx\nSigCgt:\txyz\n", "Name:\tx\nVmRSS:\t99999999999999999999 kB\n", "Name:\tx\nVmRSS:\t12 MB\n"} {
		if _, err := ParseStatus([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseStatus(%q) = %v", in, err)
		}
	}
}

func FuzzStatusText(f *testing.F) {
	f.Add([]byte("Name:\tnode\nVmRSS:\t 1 kB\nUid:\t1 2 3 4\nSigCgt:\t4602\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseStatus(data)
		if err == nil && s.VmRSS != nil && *s.VmRSS%1024 != 0 {
			t.Fatalf("VmRSS %d not a kB multiple", *s.VmRSS)
		}
	})
}

const realLimits = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max processes             95706                95706                processes 
Max open files            20000                20000                files     
Max nice priority         0                    0                    
Max realtime timeout      unlimited            unlimited            us        
`

func TestLimits(t *testing.T) {
	l, err := ParseLimits([]byte(realLimits))
	if err != nil {
		t.Fatal(err)
	}
	soft, hard, ok := l.OpenFiles()
	if !ok || *soft != 20000 || *hard != 20000 {
		t.Errorf("open files %v %v %v", soft, hard, ok)
	}
	if c := l["Max cpu time"]; c.Soft != nil || c.Hard != nil || c.Units != "seconds" {
		t.Errorf("unlimited must be nil: %+v", c)
	}
	if n := l["Max nice priority"]; n.Soft == nil || *n.Soft != 0 || n.Units != "" {
		t.Errorf("no unit: %+v", n)
	}
	for _, bad := range []string{"", "nonsense\n", "Limit x\nMax open files  lots  1 files\n", "Limit x\nMax open files            99999999999999999999 1 files\n", "Limit x\nsomething else entirely\n"} {
		if _, err := ParseLimits([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseLimits(%q) = %v", bad, err)
		}
	}
	if _, _, ok := (Limits{}).OpenFiles(); ok {
		t.Error("missing row must say so")
	}
}

func FuzzLimitsText(f *testing.F) {
	f.Add([]byte(realLimits))
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = ParseLimits(data) })
}

func TestSmapsRollup(t *testing.T) {
	data := []byte("55d0c0000000-7ffd00000000 ---p 00000000 00:00 0                          [rollup]\nRss:               40104 kB\nPss:               38620 kB\nPss_Anon:           4568 kB\nPss_File:          34052 kB\nPss_Shmem:             0 kB\nAnonymous:          4568 kB\nSwap:                  0 kB\nSwapPss:               0 kB\nLocked:                0 kB\n")
	s, err := ParseSmapsRollup(data)
	if err != nil {
		t.Fatal(err)
	}
	if *s.Pss != 38620*1024 || *s.Rss != 40104*1024 || *s.Swap != 0 || s.SharedClean != nil {
		t.Errorf("got pss %d rss %d", *s.Pss, *s.Rss)
	}
	// Older kernels lack Pss_Anon: nil, not 0.
	s, err = ParseSmapsRollup([]byte("Rss: 4 kB\nPss: 4 kB\n"))
	if err != nil || s.PssAnon != nil {
		t.Errorf("old kernel: %+v %v", s, err)
	}
	for _, bad := range []string{"", "x", "Pss: many kB\n"} {
		if _, err := ParseSmapsRollup([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseSmapsRollup(%q) = %v", bad, err)
		}
	}
}

func FuzzSmapsText(f *testing.F) {
	f.Add([]byte("Rss: 4 kB\nPss: 4 kB\n"))
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = ParseSmapsRollup(data) })
}

func TestCmdlineAndNodeDetection(t *testing.T) {
	cases := map[string][]string{
		"node\x00server.js\x00":           {"node", "server.js"},
		"x) Z 1 (y":                       {"x) Z 1 (y"},
		"":                                {},
		"node\x00\x00arg after empty\x00": {"node", "", "arg after empty"},
		// process.title = "short-title" over longer arguments: the rest is NUL padding.
		"short-title\x00\x00\x00\x00\x00\x00\x00": {"short-title"},
		"node\x00app.js\x00\x00":                  {"node", "app.js"},
		"\x00\x00\x00":                            {},
		"my service title":                        {"my service title"},
	}
	for in, want := range cases {
		if got := ParseCmdline([]byte(in)); !reflect.DeepEqual(got, want) {
			t.Errorf("ParseCmdline(%q) = %q, want %q", in, got, want)
		}
	}
	for exe, want := range map[string]bool{
		"/usr/bin/node": true, "/usr/bin/nodejs": true, "/opt/node-v20/bin/node (deleted)": true, "/usr/local/bin/node20": true,
		"/usr/bin/node-20": true, "/usr/bin/nodemon": false, "/bin/sh": false, "/usr/bin/node-": false, "node": true, "": false,
	} {
		if got := IsNodeExe(exe); got != want {
			t.Errorf("IsNodeExe(%q) = %v", exe, got)
		}
	}
	ok, err := MapsHaveLibnode(strings.NewReader("7f00-7f01 r-xp 0 08:01 1 /usr/lib/x86_64-linux-gnu/libnode.so.109\n"))
	if !ok || err != nil {
		t.Errorf("libnode not found: %v", err)
	}
	ok, _ = MapsHaveLibnode(strings.NewReader("7f00-7f01 r-xp 0 08:01 1 /usr/lib/libc.so.6\n7f00-7f01 rw-p 0 0 0 [heap]\n"))
	if ok {
		t.Error("libc is not libnode")
	}
}

func TestDetectNodeOnFakeTree(t *testing.T) {
	root := t.TempDir()
	mk := func(pid, exe string, maps string) {
		dir := filepath.Join(root, pid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if exe != "" {
			_ = os.Symlink(exe, filepath.Join(dir, "exe"))
		}
		_ = os.WriteFile(filepath.Join(dir, "maps"), []byte(maps), 0o644)
		_ = os.WriteFile(filepath.Join(dir, "cmdline"), []byte("node\x00x.js\x00"), 0o644)
	}
	mk("10", "/usr/bin/node", "")
	mk("11", "/opt/app/electronish", "7f-7f r-xp 0 0 1 /opt/app/libnode.so.115\n")
	mk("12", "/bin/sh", "")
	fs := NewFS(root)
	for pid, want := range map[int]string{10: "exe", 11: "maps", 12: ""} {
		ok, by, err := fs.DetectNode(pid)
		if err != nil || by != want || ok != (want != "") {
			t.Errorf("pid %d: %v %q %v", pid, ok, by, err)
		}
	}
	if _, _, err := fs.DetectNode(99); !IsGone(err) {
		t.Errorf("missing pid: %v", err)
	}
}

func TestSyscallText(t *testing.T) {
	for in, want := range map[string]SyscallSample{
		"281 0xe 0x7ffe6284d830 0x400 0x3e8 0x0 0x8 0x7ffe6284cad0 0x7f4a4dd06cae\n": {Nr: 281},
		"running\n":                 {Running: true, Nr: -1},
		"-1 0x7ffe 0x7f4a\n":        {Nr: -1},
		"202 0x1 0x2 0x3 0x4 0x5\n": {Nr: 202},
	} {
		got, err := ParseSyscallCall([]byte(in))
		if err != nil || got.SyscallSample != want {
			t.Errorf("ParseSyscallCall(%q) = %+v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "walking", "-7 0x1", "99999999"} {
		if _, err := ParseSyscallCall([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseSyscallCall(%q) = %v", bad, err)
		}
	}
}

func FuzzSyscallText(f *testing.F) {
	f.Add([]byte("281 0x1\n"))
	f.Add([]byte("running\n"))
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = ParseSyscallCall(data) })
}

func TestStatExited(t *testing.T) {
	for _, c := range []struct {
		state string
		flags uint64
		want  bool
	}{
		{"S", 4194304, false}, // PF_RANDOMIZE of a live node
		{"R", 0, false},
		{"Z", 4194304, true},
		{"X", 0, true},
		{"R", 4194304 | 0x4, true}, // in do_exit(): PF_EXITING, still R
		{"D", 0x4, true},
	} {
		if got := (Stat{State: c.state, Flags: c.flags}).Exited(); got != c.want {
			t.Errorf("state %s flags %#x: Exited %v, want %v", c.state, c.flags, got, c.want)
		}
	}
}
