package probes

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const tcpHeaderLine = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

func tcpTable(rows ...string) string { return tcpHeaderLine + strings.Join(rows, "") }

func collect(t *testing.T, parse func(func(Socket)) error) []Socket {
	t.Helper()
	var out []Socket
	if err := parse(func(s Socket) { out = append(out, s) }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTCPTable(t *testing.T) {
	table := tcpTable(
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000005 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0\n",
		"   1: 0100007F:1F90 0200000A:9C40 08 00000010:00000001 00:00000000 00000000  1000        0 4243 1 0000000000000000 20 4 30 10 -1\n",
		"   2: 0100007F:1F91 0300000A:9C41 01 00000000:00000000 00:00000000 00000000     0        0 9999 1 0000000000000000 20 4 30 10 -1\n",
	)
	got := collect(t, func(emit func(Socket)) error {
		return ParseTCP(strings.NewReader(table), "tcp", func(i uint64) bool { return i != 9999 }, emit)
	})
	if len(got) != 2 {
		t.Fatalf("want 2 rows (9999 filtered), got %+v", got)
	}
	want0 := Socket{Proto: "tcp", State: "LISTEN", Local: "127.0.0.1:8080", Remote: "0.0.0.0:0", RemoteIP: "0.0.0.0", LocalPort: 8080, RxQueue: 5, UID: 1000, Inode: 4242}
	if got[0] != want0 {
		t.Errorf("row 0 = %+v\nwant %+v", got[0], want0)
	}
	if got[1].State != "CLOSE_WAIT" || got[1].Remote != "10.0.0.2:40000" || got[1].RemoteIP != "10.0.0.2" || got[1].TxQueue != 16 || got[1].RxQueue != 1 {
		t.Errorf("row 1 = %+v", got[1])
	}
}

func TestTCP6Table(t *testing.T) {
	table := "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 00000000000000000000000001000000:2405 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0\n" +
		"   1: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 78 1 0000000000000000 100 0 0 10 0\n"
	got := collect(t, func(emit func(Socket)) error { return ParseTCP(strings.NewReader(table), "tcp6", nil, emit) })
	if got[0].Local != "[::1]:9221" || got[0].Remote != "[::]:0" || got[0].State != "LISTEN" {
		t.Errorf("::1 row %+v", got[0])
	}
	if got[1].Local != "[::ffff:127.0.0.1]:80" || got[1].RemoteIP != "::ffff:127.0.0.1" || got[1].RemotePort != 50000 {
		t.Errorf("v4-mapped row %+v", got[1])
	}
}

func TestUDPTable(t *testing.T) {
	table := "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
		"  1: 00000000:14E9 00000000:0000 07 00000000:00000300 00:00000000 00000000   104        0 555 2 0000000000000000 0\n" +
		"  2: 0100007F:8000 0100007F:0035 01 00000000:00000000 00:00000000 00000000   104        0 556 2 0000000000000000 0\n"
	got := collect(t, func(emit func(Socket)) error { return ParseUDP(strings.NewReader(table), "udp", nil, emit) })
	if got[0].State != "UNCONN" || got[0].Local != "0.0.0.0:5353" || got[0].RxQueue != 0x300 || got[1].State != "ESTABLISHED" {
		t.Errorf("udp rows %+v", got)
	}
}

func TestInetTableMalformed(t *testing.T) {
	for _, table := range []string{
		"not a header\n",
		tcpTable("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 notanumber 1\n", "x\n"),
		tcpTable("   0: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1\n"),
		tcpTable("   0: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1\n"),
		tcpTable("   0: 0100007F:1F90 00000000:0000 0A 0000000000000000 00:00000000 00000000  1000        0 1 1\n"),
		tcpTable("   0: 0100007F:1F90 00000000:0000\n", "   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1\n"),
	} {
		err := ParseTCP(strings.NewReader(table), "tcp", nil, func(Socket) {})
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("table %q: %v", table, err)
		}
	}
	// A truncated last line (the table changed while read) loses only that line.
	n := 0
	err := ParseTCP(strings.NewReader(tcpTable(
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0 100 0 0 10 0\n",
		"   1: 0100007F:1F90 0000")), "tcp", nil, func(Socket) { n++ })
	if err != nil || n != 1 {
		t.Errorf("truncated last line: %d rows, %v", n, err)
	}
}

func TestUnixAndNetlinkTables(t *testing.T) {
	table := "Num       RefCount Protocol Flags    Type St Inode Path\n" +
		"000000006fdc4557: 00000003 00000000 00000000 0001 03   559\n" +
		"0000000000000000: 00000002 00000000 00010000 0001 01 4559 /run/app/with space.sock\n" +
		"0000000000000000: 00000002 00000000 00000000 0002 01 600 @abstract\n"
	got := collect(t, func(emit func(Socket)) error { return ParseUnix(strings.NewReader(table), nil, emit) })
	if len(got) != 3 || got[0].State != "CONNECTED" || got[0].Local != "" || got[0].Inode != 559 {
		t.Fatalf("rows %+v", got)
	}
	if got[1].State != "LISTEN" || got[1].Local != "/run/app/with space.sock" || got[2].Local != "@abstract" || got[2].State != "UNCONNECTED" {
		t.Errorf("rows %+v", got[1:])
	}
	nl := "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n" +
		"00000000e59a9a57 0   0          00000000 0        0        0     2        0        4       \n"
	got = collect(t, func(emit func(Socket)) error { return ParseNetlink(strings.NewReader(nl), nil, emit) })
	if len(got) != 1 || got[0].Inode != 4 || got[0].Proto != "netlink" {
		t.Errorf("netlink %+v", got)
	}
	if err := ParseUnix(strings.NewReader("garbage\n"), nil, func(Socket) {}); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad unix header: %v", err)
	}
}

func BenchmarkTCPTable100kForeign(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(tcpHeaderLine)
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&sb, "%6d: 0100007F:%04X 0100007F:%04X 01 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n", i, 1024+i%60000, 2048+i%60000, 100000+i)
	}
	table := sb.String()
	mine := map[uint64]bool{}
	for i := 0; i < 1000; i++ {
		mine[uint64(100000+i*100)] = true
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := ParseTCP(strings.NewReader(table), "tcp", func(ino uint64) bool { return mine[ino] }, func(Socket) { n++ }); err != nil || n != 1000 {
			b.Fatal(n, err)
		}
	}
}

func FuzzTCPTable(f *testing.F) {
	f.Add(tcpTable("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000005 00:00000000 00000000  1000        0 4242 1\n"))
	f.Add(tcpTable("   0: 00000000000000000000000001000000:2405 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 1 1\n"))
	f.Fuzz(func(t *testing.T, table string) {
		_ = ParseTCP(strings.NewReader(table), "tcp6", nil, func(s Socket) {
			if s.LocalPort < 0 || s.LocalPort > 65535 {
				t.Fatalf("port %d", s.LocalPort)
			}
		})
	})
}

func FuzzUnixTable(f *testing.F) {
	f.Add("Num RefCount\n0000: 00000002 00000000 00010000 0001 01 4559 /x y\n")
	f.Fuzz(func(t *testing.T, table string) {
		_ = ParseUnix(strings.NewReader(table), nil, func(Socket) {})
	})
}

func TestClassifyLink(t *testing.T) {
	for target, want := range map[string]string{
		"socket:[123]": "socket", "pipe:[9]": "pipe", "anon_inode:[eventfd]": "eventfd", "anon_inode:[eventpoll]": "epoll",
		"anon_inode:[timerfd]": "timerfd", "anon_inode:[signalfd]": "signalfd", "anon_inode:inotify": "inotify",
		"anon_inode:[io_uring]": "anon_inode", "anon_inode:[pidfd]": "anon_inode", "/var/log/x": "path",
		"/memfd:v8 (deleted)": "path", "net:[4026531840]": "unknown", "": "unknown", "socket:[": "socket",
	} {
		if got, _ := ClassifyLink(target); got != want {
			t.Errorf("ClassifyLink(%q) = %q, want %q", target, got, want)
		}
	}
	if ino, ok := bracketInode("socket:[18446744073709551615]", "socket:["); !ok || ino != 18446744073709551615 {
		t.Errorf("max inode: %d %v", ino, ok)
	}
	if _, ok := bracketInode("socket:[x]", "socket:["); ok {
		t.Error("bad inode accepted")
	}
}

func FuzzLinkClass(f *testing.F) {
	f.Add("socket:[1]")
	f.Add("anon_inode:[eventfd]")
	f.Fuzz(func(t *testing.T, target string) {
		typ, _ := ClassifyLink(target)
		if typ == "" {
			t.Fatal("empty type")
		}
	})
}

func TestParseSockStat(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		bad  bool
	}{
		{"sockets: used 16010\nTCP: inuse 16002 orphan 0 tw 13 alloc 16002 mem 219\nUDP: inuse 0 mem 0\n", 16002, false},
		{"TCP6: inuse 2\nUDP6: inuse 0\n", 2, false},
		{"TCP: inuse x orphan 0\n", 0, true},
		{"TCP: inuse -4\n", 0, true},
		{"TCP: inuse 99999999999999999\n", 0, true},
		{"TCP: inuse", 0, false}, // truncated: nothing to add
		{"", 0, false},
	} {
		var s SockStat
		err := ParseSockStat(strings.NewReader(c.in), &s)
		if (err != nil) != c.bad || (!c.bad && s.TCP != c.want) {
			t.Errorf("%q: %+v %v", c.in, s, err)
		}
	}
}

func FuzzSockStatText(f *testing.F) {
	f.Add("TCP: inuse 16002 orphan 0 tw 13 alloc 16002 mem 219\nTCP6: inuse 2\n")
	f.Fuzz(func(t *testing.T, in string) {
		var s SockStat
		if err := ParseSockStat(strings.NewReader(in), &s); err == nil && s.TCP < 0 {
			t.Fatalf("negative count %d", s.TCP)
		}
	})
}
