package cmd

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/heapsnap"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/profile"
	"github.com/nodeinspect/nodeinspect/report"
)

// heapSnapshotHead is how every V8 heap snapshot starts (white space allowed).
var heapSnapshotHead = regexp.MustCompile(`^\s*\{\s*"snapshot"\s*:`)

// isHeapSnapshotFile says whether analyze should read path as a heap snapshot: by its
// extension, or by its first bytes.
func isHeapSnapshotFile(path string) bool {
	if strings.HasSuffix(path, ".heapsnapshot") {
		return true
	}
	head, _, err := peekFile(path, 64)
	return err == nil && heapSnapshotHead.Match(head)
}

// analyzeHeapSnapshot prints the summary by constructor of a .heapsnapshot file. A file
// that is truncated or is not a snapshot is a usage error (exit 2).
func analyzeHeapSnapshot(deps Deps, opt options, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("cannot read %w", err)}
	}
	defer f.Close()
	sum, err := heapsnap.SummarizeSnapshot(f, 0)
	if err != nil {
		return usageError("%s: %v", path, err)
	}
	doc := &model.HeapDoc{Schema: model.Schema, TakenAt: deps.Now().UTC(), Heap: profile.NewSnapshotHeapDoc(sum, 30), File: &path, Warnings: []string{}}
	var buf bytes.Buffer
	if err := report.RenderHeap(&buf, doc, renderOptions(deps, opt, "heap")); err != nil {
		return err
	}
	return writeOnce(deps, &buf)
}
