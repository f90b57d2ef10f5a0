package probes

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// openManyFDs opens n fds in the test process (pipes and unix socket pairs, in halves) and
// closes them when the test ends.
func openManyFDs(tb testing.TB, n int) {
	tb.Helper()
	var fds []int
	tb.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	for len(fds) < n {
		var p [2]int
		var err error
		if len(fds)%4 == 0 {
			err = unix.Pipe2(p[:], unix.O_CLOEXEC)
		} else {
			p, err = unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		}
		if err != nil {
			tb.Fatalf("after %d fds: %v", len(fds), err)
		}
		fds = append(fds, p[0], p[1])
	}
}

func BenchmarkReadFDs16k(b *testing.B) {
	openManyFDs(b, 16000)
	fs := NewFS("")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		entries, _, err := fs.ReadFDs(os.Getpid())
		if err != nil || len(entries) < 16000 {
			b.Fatal(len(entries), err)
		}
	}
}
