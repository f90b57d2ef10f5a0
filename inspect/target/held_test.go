package target

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTracerPid(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"Name:\tnode\nTracerPid:\t0\n", 0},
		{"Name:\tnode\nTracerPid:\t4242\nUid:\t0\n", 4242},
		{"TracerPid:", 0},
		{"TracerPid:\tabc\n", 0},
		{"", 0},
		{"Name:\tnode\n", 0},
	} {
		if got := tracerPid([]byte(c.in)); got != c.want {
			t.Errorf("tracerPid(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func FuzzTracerPid(f *testing.F) {
	f.Add([]byte("TracerPid:\t12\n"))
	f.Fuzz(func(t *testing.T, b []byte) { _ = tracerPid(b) })
}

func TestFrozenBy(t *testing.T) {
	root := t.TempDir()
	old := cgroupRoot
	cgroupRoot = root
	t.Cleanup(func() { cgroupRoot = old })
	write := func(path, data string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "freezer", "frozen", "freezer.state"), "FROZEN\n")
	write(filepath.Join(root, "freezer", "thawed", "freezer.state"), "THAWED\n")
	write(filepath.Join(root, "unified", "v2frozen", "cgroup.events"), "populated 1\nfrozen 1\n")
	write(filepath.Join(root, "unified", "v2thawed", "cgroup.events"), "populated 1\nfrozen 0\n")
	for _, c := range []struct {
		in     string
		frozen bool
	}{
		{"7:freezer:/frozen\n", true},
		{"7:freezer:/thawed\n0::/v2thawed\n", false},
		{"0::/v2frozen\n", true},
		{"3:cpu,freezer:/frozen\n", true},
		{"7:freezer:/../../etc\n", false},
		{"garbage\n", false},
		{"", false},
		{"7:freezer:/missing\n", false},
	} {
		if got := frozenBy([]byte(c.in)); (got != "") != c.frozen {
			t.Errorf("frozenBy(%q) = %q, want frozen %v", c.in, got, c.frozen)
		}
	}
}

func FuzzFrozenBy(f *testing.F) {
	old := cgroupRoot
	cgroupRoot = f.TempDir()
	f.Cleanup(func() { cgroupRoot = old })
	f.Add([]byte("7:freezer:/a\n0::/b\n"))
	f.Fuzz(func(t *testing.T, b []byte) { _ = frozenBy(b) })
}
