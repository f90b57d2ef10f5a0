package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/nodereport"
	"github.com/nodeinspect/nodeinspect/report"
)

// maxReportSize bounds a Node.js diagnostic report read by analyze. A report of a process
// with a hundred thousand handles is about 30 MB; anything larger is not a report (a heap
// snapshot, a log) and is refused before it is read into memory.
const maxReportSize = 64 << 20

// newAnalyzeCommand reads a Node.js diagnostic report or a saved snapshot and prints its
// findings like report does.
func newAnalyzeCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:      "analyze",
		Usage:     "findings from a Node.js diagnostic report (--report-* JSON) or a saved snapshot",
		ArgsUsage: "FILE",
		Flags:     append(outputFlags(), findingFlags()...),
		Action: func(ctx context.Context, c *cli.Command) error {
			if c.NArg() != 1 {
				return usageError("analyze takes one file: a Node.js diagnostic report or a snapshot written by `nodeinspect snapshot`")
			}
			opt, err := readOptions(c, deps)
			if err != nil {
				return err
			}
			if isHeapSnapshotFile(c.Args().First()) {
				return analyzeHeapSnapshot(deps, opt, c.Args().First())
			}
			snap, err := analyzeFile(c.Args().First(), opt.thresholds)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := report.Render(&buf, snap, renderOptions(deps, opt, "report")); err != nil {
				return err
			}
			if err := writeOnce(deps, &buf); err != nil {
				return err
			}
			printWarnings(deps, snap.Warnings)
			return findingsError(failing(snap.Findings, opt.failOn), opt.failOn)
		},
	}
}

// analyzeFile reads path as a nodeinspect snapshot (rules run again with the thresholds)
// or as a Node.js diagnostic report.
func analyzeFile(path string, thresholds inspect.Thresholds) (*inspect.Snapshot, error) {
	head, size, err := peekFile(path, 512)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("cannot read %w", err)}
	}
	if isSnapshotHead(head) {
		snap, err := loadSnapshot(path)
		if err != nil {
			return nil, err
		}
		snap.Source, snap.SourceFile = "snapshot", path
		inspect.Reevaluate(snap, thresholds)
		return snap, nil
	}
	if size > maxReportSize {
		return nil, usageError("%s is %d MiB: a Node.js diagnostic report is a few MiB at most (is it a heap snapshot or a log?); give a report written by --report-uncaught-exception, --report-on-fatalerror or process.report.writeReport()", path, size>>20)
	}
	data, err := readDocument(path)
	if err != nil {
		return nil, err
	}
	r, err := nodereport.Parse(data)
	if err != nil {
		what := "give a report written by --report-uncaught-exception, --report-on-fatalerror or process.report.writeReport(), or a snapshot written by `nodeinspect snapshot`"
		if errors.Is(err, nodereport.ErrMalformed) {
			what = "the file is cut short or not JSON: was the report still being written, or copied partially?"
		}
		return nil, usageError("%s: %v; %s", path, err, what)
	}
	return inspect.FromNodeReport(r, path, thresholds), nil
}

// peekFile returns the first n bytes of path and its size.
func peekFile(path string, n int) ([]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if st.IsDir() {
		return nil, 0, fmt.Errorf("%s: is a directory", path)
	}
	buf := make([]byte, n)
	k, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return buf[:k], st.Size(), nil
}

// isSnapshotHead reports whether a file starts like a nodeinspect document: the schema key
// comes first in everything this tool writes.
func isSnapshotHead(head []byte) bool {
	head = bytes.TrimLeft(head, " \t\r\n")
	if !bytes.HasPrefix(head, []byte("{")) {
		return false
	}
	head = bytes.TrimLeft(head[1:], " \t\r\n")
	rest, ok := bytes.CutPrefix(head, []byte(`"schema"`))
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t\r\n:")
	return bytes.HasPrefix(rest, []byte(`"nodeinspect/`))
}
