package probes

import (
	"os"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestReadTCPByFDMatchesTheDump: the rows found socket by socket equal the rows of a
// namespace dump, for every TCP socket of the zoo (listeners with queued connections,
// CLOSE_WAIT, unread and unsent bytes, IPv6, v4-mapped, dual-stack), and every other
// socket is handed back for the tables.
func TestReadTCPByFDMatchesTheDump(t *testing.T) {
	z := newNLSocketZoo(t)
	inodes := nlOwnSocketInodes(t)
	fs := NewFS("")
	var byFD, dump []Socket
	var rest map[uint64]bool
	for attempt := 0; attempt < 50; attempt++ {
		if attempt > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		entries, _, err := fs.ReadFDs(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		var sockets []FDEntry
		for _, e := range entries {
			if e.Type == "socket" && inodes[e.Inode] {
				sockets = append(sockets, e)
			}
		}
		byFD, rest, err = fs.ReadTCPByFD(os.Getpid(), sockets)
		if err != nil {
			t.Fatal(err)
		}
		dump = slices.DeleteFunc(nlRows(t, InetDiagAllStates, inodes), func(s Socket) bool { return s.Proto != "tcp" && s.Proto != "tcp6" })
		nlSortRows(byFD)
		nlSortRows(dump)
		if reflect.DeepEqual(byFD, dump) {
			break
		}
	}
	if !reflect.DeepEqual(byFD, dump) {
		t.Errorf("by fd %d rows, dump %d rows", len(byFD), len(dump))
		for i := 0; i < max(len(byFD), len(dump)); i++ {
			var a, b Socket
			if i < len(byFD) {
				a = byFD[i]
			}
			if i < len(dump) {
				b = dump[i]
			}
			if a != b {
				t.Errorf("row %d:\n by fd %+v\n  dump %+v", i, a, b)
			}
		}
	}
	found := map[uint64]bool{}
	for _, s := range byFD {
		found[s.Inode] = true
	}
	for ino := range inodes {
		if found[ino] == rest[ino] {
			t.Errorf("inode %d: found %v, handed back %v (want exactly one)", ino, found[ino], rest[ino])
		}
	}
	if !found[z.closeWait] || !found[z.rawListener] {
		t.Errorf("the CLOSE_WAIT socket or the listener was not found by fd")
	}
	if len(dump) < 8 {
		t.Errorf("only %d TCP rows in the zoo", len(dump))
	}
}

func TestReadTCPByFDRefusesAFakeTree(t *testing.T) {
	if _, _, err := NewFS(t.TempDir()).ReadTCPByFD(1, nil); err == nil {
		t.Fatal("a fake tree accepted")
	}
}

// BenchmarkReadTCPByFD looks up the same sockets one by one that BenchmarkDumpInetDiag
// dumps: the cost per socket decides when the lookup pays (inspect's lookupPays).
func BenchmarkReadTCPByFD(b *testing.B) {
	inodes := nlBenchPairs(b, nlBenchConnections)
	fs := NewFS("")
	entries, _, err := fs.ReadFDs(os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	var sockets []FDEntry
	for _, e := range entries {
		if e.Type == "socket" && inodes[e.Inode] {
			sockets = append(sockets, e)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		rows, _, err := fs.ReadTCPByFD(os.Getpid(), sockets)
		if err != nil {
			b.Fatal(err)
		}
		if len(rows) != len(sockets) {
			b.Fatalf("%d rows for %d sockets", len(rows), len(sockets))
		}
	}
}
