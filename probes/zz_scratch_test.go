package probes

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func BenchmarkScratchReaddir(b *testing.B) {
	openManyFDs(b, 16000)
	for i := 0; i < b.N; i++ {
		d, _ := os.Open("/proc/self/fd")
		names, _ := d.Readdirnames(-1)
		d.Close()
		if len(names) < 16000 {
			b.Fatal(len(names))
		}
	}
}

func BenchmarkScratchReadlink(b *testing.B) {
	openManyFDs(b, 16000)
	d, _ := os.Open("/proc/self/fd")
	names, _ := d.Readdirnames(-1)
	buf := make([]byte, 4096)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, n := range names {
			unix.Readlinkat(int(d.Fd()), n, buf)
		}
	}
}

func BenchmarkScratchReadlinkPid(b *testing.B) {
	openManyFDs(b, 16000)
	d, _ := os.Open("/proc/" + strconv.Itoa(os.Getpid()) + "/fd")
	names, _ := d.Readdirnames(-1)
	buf := make([]byte, 4096)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, n := range names {
			unix.Readlinkat(int(d.Fd()), n, buf)
		}
	}
}

func BenchmarkScratchGetppid(b *testing.B) {
	for i := 0; i < b.N; i++ {
		unix.Getppid()
	}
}

func BenchmarkScratchFstat(b *testing.B) {
	var st unix.Stat_t
	for i := 0; i < b.N; i++ {
		unix.Fstat(0, &st)
	}
}

func benchParallelReadlink(b *testing.B, workers int) {
	openManyFDs(b, 16000)
	d, _ := os.Open("/proc/self/fd")
	names, _ := d.Readdirnames(-1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		done := make(chan bool)
		chunk := (len(names) + workers - 1) / workers
		for w := 0; w < workers; w++ {
			lo, hi := w*chunk, min((w+1)*chunk, len(names))
			go func() {
				buf := make([]byte, 4096)
				for _, n := range names[lo:hi] {
					unix.Readlinkat(int(d.Fd()), n, buf)
				}
				done <- true
			}()
		}
		for w := 0; w < workers; w++ {
			<-done
		}
	}
}
func BenchmarkScratchPar1(b *testing.B) { benchParallelReadlink(b, 1) }
func BenchmarkScratchPar2(b *testing.B) { benchParallelReadlink(b, 2) }
func BenchmarkScratchPar4(b *testing.B) { benchParallelReadlink(b, 4) }

func TestScratchHold(t *testing.T) {
	if os.Getenv("HOLD") == "" {
		t.Skip()
	}
	openManyFDs(t, 16000)
	os.WriteFile("/tmp/hold.pid", []byte(strconv.Itoa(os.Getpid())), 0o644)
	select {}
}

func benchOther(b *testing.B, workers int) {
	pid, _ := os.ReadFile("/tmp/hold.pid")
	d, err := os.Open("/proc/" + string(pid) + "/fd")
	if err != nil {
		b.Skip()
	}
	names, _ := d.Readdirnames(-1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		done := make(chan bool)
		chunk := (len(names) + workers - 1) / workers
		for w := 0; w < workers; w++ {
			lo, hi := w*chunk, min((w+1)*chunk, len(names))
			go func() {
				buf := make([]byte, 4096)
				for _, n := range names[lo:hi] {
					unix.Readlinkat(int(d.Fd()), n, buf)
				}
				done <- true
			}()
		}
		for w := 0; w < workers; w++ {
			<-done
		}
	}
}
func BenchmarkScratchOther1(b *testing.B) { benchOther(b, 1) }
func BenchmarkScratchOther2(b *testing.B) { benchOther(b, 2) }
func BenchmarkScratchOtherFull(b *testing.B) {
	pid, _ := os.ReadFile("/tmp/hold.pid")
	p, _ := strconv.Atoi(string(pid))
	for i := 0; i < b.N; i++ {
		NewFS("").ReadFDs(p)
	}
}
