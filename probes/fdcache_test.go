package probes

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFDCacheFollowsTheTable: new fds are read at once, closed ones disappear at once, and
// an fd number reused for another file shows its new file within fdCacheRounds reads.
func TestFDCacheFollowsTheTable(t *testing.T) {
	fs := NewFS("")
	var c FDCache
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	// High numbers, so the reader's own open of /proc/self/fd (the lowest free fd) does
	// not take them.
	const pipeFD, reusedFD = 900, 901
	if err := unix.Dup3(int(r.Fd()), pipeFD, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup3(int(r.Fd()), reusedFD, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(reusedFD)
	find := func(entries []FDEntry, fd int) (FDEntry, bool) {
		for _, e := range entries {
			if e.FD == fd {
				return e, true
			}
		}
		return FDEntry{}, false
	}
	read := func() []FDEntry {
		entries, _, err := fs.ReadFDsCached(os.Getpid(), &c)
		if err != nil {
			t.Fatal(err)
		}
		return entries
	}
	if e, ok := find(read(), pipeFD); !ok || e.Type != "pipe" {
		t.Fatalf("pipe not seen: %+v", e)
	}
	unix.Close(pipeFD)
	if _, ok := find(read(), pipeFD); ok {
		t.Fatal("a closed fd must disappear at once")
	}
	// A new fd is read at once.
	null, _ := os.Open("/dev/null")
	defer null.Close()
	const newFD = 902
	if err := unix.Dup3(int(null.Fd()), newFD, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(newFD)
	if e, ok := find(read(), newFD); !ok || e.Type != "char" {
		t.Fatalf("new fd not read: %+v", e)
	}
	// A known fd replaced in place is seen within fdCacheRounds reads.
	if err := unix.Dup3(int(null.Fd()), reusedFD, 0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < fdCacheRounds; i++ {
		if e, _ := find(read(), reusedFD); e.Type == "char" {
			return
		}
	}
	t.Error("an fd replaced in place was not re-read within fdCacheRounds reads")
}

func TestCountFDsMatchesTheTable(t *testing.T) {
	fs := NewFS("/proc")
	n, ok, err := fs.CountFDs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skip("this kernel does not report the fd count as the size of /proc/<pid>/fd (before 6.2)")
	}
	entries, _, err := fs.ReadFDs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// The directory read itself may hold one more fd than the stat saw.
	if d := len(entries) - n; d < -1 || d > 1 {
		t.Fatalf("CountFDs %d, table %d", n, len(entries))
	}
	if _, ok, _ := NewFS(t.TempDir()).CountFDs(1); ok {
		t.Fatal("a count from a tree that is not procfs")
	}
}
