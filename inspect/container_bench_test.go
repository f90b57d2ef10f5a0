package inspect

import (
	"os"
	"testing"

	"github.com/nodeinspect/nodeinspect/probes"
)

// BenchmarkReadContainerReal reads the container section of the benchmark's own process
// from the real /proc and cgroup file systems: on this machine it is in a v1 memory cgroup
// (every file of the memory, cpu and pids chains is read, and the section is null since no
// limit applies). The mountinfo is read once per Collector, as in one run.
func BenchmarkReadContainerReal(b *testing.B) {
	if _, err := os.Stat("/proc/self/cgroup"); err != nil {
		b.Skip("no /proc/self/cgroup")
	}
	pid := os.Getpid()
	status, err := probes.NewFS("").ReadStatus(pid)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c := NewCollector(probes.NewFS(""))
		c.Containers().Read(pid, &status)
	}
}

// BenchmarkReadContainerFakeV2 reads the fake v2 Kubernetes container (four levels of
// limits, every file present).
func BenchmarkReadContainerFakeV2(b *testing.B) {
	proc := fakeContainerProc(b, "0::"+v2Path+"\n", v2Mountinfo, "")
	root := cgroupTree(b, "v2-kubepods")
	status := &probes.Status{NSpid: []int{4242, 1}}
	for b.Loop() {
		c := testCollector(proc, root)
		if ctr, _, _ := c.Containers().Read(4242, status); ctr == nil {
			b.Fatal("no container")
		}
	}
}
