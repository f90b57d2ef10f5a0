package fakeproc

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/proc from the scenarios")

// fixtureDir is where the scenario trees are committed, for tools and people to read.
const fixtureDir = "../../testdata/proc"

// TestFixturesMatchScenarios keeps the committed fake /proc trees of testdata/proc equal to
// what the scenarios build; `go test ./internal/fakeproc -update` rewrites them.
func TestFixturesMatchScenarios(t *testing.T) {
	for _, s := range Scenarios {
		t.Run(s.Name, func(t *testing.T) {
			if *update {
				if err := os.RemoveAll(filepath.Join(fixtureDir, s.Name)); err != nil {
					t.Fatal(err)
				}
				if _, err := Build(fixtureDir, s); err != nil {
					t.Fatal(err)
				}
			}
			fresh, err := Build(t.TempDir(), s)
			if err != nil {
				t.Fatal(err)
			}
			want := snapshotTree(t, fresh)
			got := snapshotTree(t, filepath.Join(fixtureDir, s.Name))
			for path, w := range want {
				if g, ok := got[path]; !ok {
					t.Errorf("%s missing from %s (run go test ./internal/fakeproc -update)", path, fixtureDir)
				} else if g != w {
					t.Errorf("%s differs from the scenario (run go test ./internal/fakeproc -update)", path)
				}
			}
			for path := range got {
				if _, ok := want[path]; !ok {
					t.Errorf("%s is not in the scenario (run go test ./internal/fakeproc -update)", path)
				}
			}
		})
	}
}

// snapshotTree maps every file and symlink below root to its content or link target.
func snapshotTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			out[rel] = "-> " + target
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}
