package fleet

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/ps"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
	"github.com/nodeinspect/nodeinspect/probes"
)

// bigHost writes a fake host of 1,000 processes, 200 of them Node.js with 24 fds each (10
// TCP sockets), for the scrape benchmark (`make bench`).
func bigHost(b *testing.B) string {
	b.Helper()
	root := b.TempDir()
	tree, err := fakeproc.New(root)
	if err != nil {
		b.Fatal(err)
	}
	var all []fakeproc.Socket
	var nodes []fakeproc.Proc
	for i := 0; i < 200; i++ {
		pid := 10000 + i
		p := fakeNode(pid, fmt.Sprintf("/srv/app%d/server.js", i%40))
		for s := 0; s < 10; s++ {
			ino := uint64(100000 + i*10 + s)
			p.FDs = append(p.FDs, fakeproc.FD{Num: 10 + s, Target: fmt.Sprintf("socket:[%d]", ino)})
			state := "01"
			if s == 9 {
				state = "08"
			}
			all = append(all, fakeproc.Socket{Proto: "tcp", State: state, Local: "10.0.0.1:3000", Remote: fmt.Sprintf("10.0.1.%d:%d", i%250, 40000+s), Inode: ino})
		}
		for f := 0; f < 11; f++ {
			p.FDs = append(p.FDs, fakeproc.FD{Num: 30 + f, Target: fmt.Sprintf("/srv/app/file%d", f)})
		}
		nodes = append(nodes, p)
	}
	// One network namespace: its tables are read once, through the first process.
	nodes[0].Sockets = all
	for _, p := range nodes {
		if err := tree.Add(p); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 800; i++ {
		pid := 20000 + i
		if err := tree.Add(fakeproc.Proc{PID: pid, PPID: 1, PGID: pid, SID: pid, Comm: "worker", State: "S", Exe: "/usr/bin/python3", Cmdline: []string{"python3", "job.py"}, SoftNofile: 1024, HardNofile: 1024}); err != nil {
			b.Fatal(err)
		}
	}
	return root
}

// BenchmarkScrapeFakeHost1000 is one scan and its mapping to series on a host of 1,000
// processes of which 200 are Node.js (no sample window: a fake tree has nothing to watch).
func BenchmarkScrapeFakeHost1000(b *testing.B) {
	s := newScanner(bigHost(b))
	b.ResetTimer()
	series := 0
	for i := 0; i < b.N; i++ {
		scan, err := s.Scan(context.Background())
		if err != nil || scan.Err != nil || len(scan.Processes) != 200 {
			b.Fatalf("scan: %v %v, %d processes", err, scan.Err, len(scan.Processes))
		}
		series = len(Samples(scan))
	}
	b.ReportMetric(float64(series), "series")
}

// BenchmarkScrapeThisHost is one scan and its series over this host's real /proc (or the
// proc tree in NODEINSPECT_BENCH_PROC), with the shared window NODEINSPECT_BENCH_SAMPLE
// (default 300ms, serve's). Skipped unless NODEINSPECT_BENCH_PROC is set: it measures
// whatever runs here (scripts/bench_fleet.sh starts the Node.js processes). Profile it with
// -cpuprofile; the CPU a scrape costs is in cpu-ms/op.
func BenchmarkScrapeThisHost(b *testing.B) {
	root := os.Getenv("NODEINSPECT_BENCH_PROC")
	if root == "" {
		b.Skip("NODEINSPECT_BENCH_PROC is not set")
	}
	sample := 300 * time.Millisecond
	if v := os.Getenv("NODEINSPECT_BENCH_SAMPLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("NODEINSPECT_BENCH_SAMPLE: %v", err)
		}
		sample = d
	}
	s := &Scanner{Collector: inspect.NewCollector(probes.NewFS(root)),
		Options: ps.Options{Thresholds: rules.DefaultThresholds(), Sample: sample}}
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	procs := 0
	for i := 0; i < b.N; i++ {
		scan, err := s.Scan(context.Background())
		if err != nil || scan.Err != nil {
			b.Fatalf("scan: %v %v", err, scan.Err)
		}
		procs = len(scan.Processes)
		_ = Samples(scan)
	}
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / time.Duration(b.N)
	b.ReportMetric(float64(cpu.Microseconds())/1000, "cpu-ms/op")
	b.ReportMetric(float64(procs), "processes")
}
