package probes

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestReadHostMemoryFollowsTheRoot(t *testing.T) {
	root := t.TempDir()
	meminfo := "MemTotal:       24000000 kB\nMemFree:        1000000 kB\nMemAvailable:   12000000 kB\nBuffers:          100 kB\nCached:          1000 kB\n"
	if err := os.WriteFile(filepath.Join(root, "meminfo"), []byte(meminfo), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := NewFS(root).ReadHostMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.Total != 24000000*1024 || m.Available != 12000000*1024 {
		t.Errorf("got %+v", m)
	}
	if _, err := NewFS(t.TempDir()).ReadHostMemory(context.Background()); err == nil {
		t.Error("a root without meminfo must fail")
	}
}
