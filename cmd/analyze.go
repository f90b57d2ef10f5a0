package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect/analyze"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/nodereport"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/report"
)

// maxReportSize bounds a Node.js diagnostic report read by analyze. A report of a process
// with a hundred thousand handles is about 30 MB; anything larger is not a report (a heap
// snapshot, a log) and is refused before it is read into memory.
const maxReportSize = 64 << 20

// newAnalyzeCommand reads Node.js diagnostic reports or saved snapshots and prints their
// findings like report does. Several files are analysed one after the other; the exit code
// is the worst of them.
func newAnalyzeCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:      "analyze",
		Usage:     "findings from Node.js diagnostic reports (--report-* JSON) or saved snapshots; - reads stdin",
		ArgsUsage: "FILE...",
		Flags:     without(append(outputFlags(), findingFlags()...), "proc", "any"),
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := readAnalyzeOptions(c, deps)
			if err != nil {
				return err
			}
			return runAnalyze(deps, o)
		},
	}
}

// analyzeOptions are analyze's arguments and flags, read once: the files ("-": stdin),
// the common flags, and whether the one file is a heap snapshot.
type analyzeOptions struct {
	paths        []string
	opt          options
	heapSnapshot bool
}

// readAnalyzeOptions reads analyze's files and flags: stdin at most once, and a heap
// snapshot only on its own.
func readAnalyzeOptions(c *cli.Command, deps Deps) (analyzeOptions, error) {
	if c.NArg() == 0 {
		return analyzeOptions{}, usageError("analyze needs a file: a Node.js diagnostic report or a snapshot written by `nodeinspect snapshot` (- for stdin)")
	}
	paths := c.Args().Slice()
	if n := countStdin(paths); n > 1 {
		return analyzeOptions{}, usageError("analyze reads stdin (-) once, got it %d times", n)
	}
	opt, err := readOptions(c, deps)
	if err != nil {
		return analyzeOptions{}, err
	}
	o := analyzeOptions{paths: paths, opt: opt}
	for _, p := range paths {
		if !isHeapSnapshotFile(p) {
			continue
		}
		if len(paths) > 1 {
			return o, usageError("analyze reads a heap snapshot on its own: %s is one of %d files; run `nodeinspect analyze %s` separately", p, len(paths), p)
		}
		o.heapSnapshot = true
	}
	return o, nil
}

// runAnalyze analyses the files of o: a heap snapshot, one report or snapshot, or several.
func runAnalyze(deps Deps, o analyzeOptions) error {
	opt, paths := o.opt, o.paths
	if o.heapSnapshot {
		return analyzeHeapSnapshot(deps, opt, paths[0])
	}
	if len(paths) > 1 {
		return analyzeMany(deps, opt, paths)
	}
	snap, err := analyzeInput(deps, paths[0], opt.thresholds)
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
}

// analyzedFile is one file of a multi-file analyze: its findings, or why it was not read.
type analyzedFile struct {
	File     string          `json:"file"`
	ExitCode int             `json:"exit_code"`
	Error    *string         `json:"error"`
	Report   json.RawMessage `json:"report"`
}

// analyzeMany analyses several files. Text formats print each file's report under a line
// naming the file; JSON is one document,
//
//	{"schema": "nodeinspect/v1", "exit_code": worst, "files": [ {"file", "exit_code", "error", "report"} ]}
//
// where "report" is the document a single-file analyze prints (null when the file could not
// be read, with "error" saying why). A file that cannot be read does not stop the others:
// its error line goes to stderr, and the exit code is the worst of all files (2 beats 1).
func analyzeMany(deps Deps, opt options, paths []string) error {
	worst, failed := ExitOK, 0 // failed counts the files that could not be analysed
	var failedAll []model.Finding
	var files []analyzedFile
	var out bytes.Buffer
	for i, path := range paths {
		name := displayName(path)
		snap, err := analyzeInput(deps, path, opt.thresholds)
		var doc bytes.Buffer
		if err == nil {
			ropt := renderOptions(deps, opt, "report")
			if opt.format == report.FormatJSON {
				ropt.CompactJSON = true
			}
			err = report.Render(&doc, snap, ropt)
		}
		code := ExitOK
		if err == nil {
			over := failing(snap.Findings, opt.failOn)
			for _, f := range over {
				f.Code = model.Code(string(f.Code) + " in " + name)
				failedAll = append(failedAll, f)
			}
			err = findingsError(over, opt.failOn)
			code = exitCode(err)
		} else {
			code = exitCode(err)
			fmt.Fprintln(deps.Err, message(err, code))
			failed++
		}
		worst = max(worst, code)
		if snap != nil {
			for _, w := range snap.Warnings {
				fmt.Fprintf(deps.Err, "nodeinspect: warning: %s: %s\n", name, w)
			}
		}
		if opt.format == report.FormatJSON {
			f := analyzedFile{File: name, ExitCode: code, Report: json.RawMessage("null")}
			if snap != nil && doc.Len() > 0 {
				f.Report = json.RawMessage(bytes.TrimSpace(doc.Bytes()))
			} else if err != nil {
				msg := err.Error()
				f.Error = &msg
			}
			files = append(files, f)
			continue
		}
		if i > 0 {
			out.WriteString("\n")
		}
		switch opt.format {
		case report.FormatMarkdown:
			fmt.Fprintf(&out, "## %s\n\n", name)
		default:
			fmt.Fprintf(&out, "==> %s <==\n", name)
		}
		if snap == nil {
			fmt.Fprintf(&out, "not analysed: %v\n", err)
			continue
		}
		out.Write(doc.Bytes())
	}
	if opt.format == report.FormatJSON {
		doc := struct {
			Schema   string         `json:"schema"`
			ExitCode int            `json:"exit_code"`
			Files    []analyzedFile `json:"files"`
		}{model.Schema, worst, files}
		var b []byte
		var err error
		if deps.IsTTY {
			b, err = json.MarshalIndent(doc, "", "  ")
		} else {
			b, err = json.Marshal(doc)
		}
		if err != nil {
			return err
		}
		out.Write(append(b, '\n'))
	}
	if err := writeOnce(deps, &out); err != nil {
		return err
	}
	switch {
	case worst == ExitOK:
		return nil
	case worst == ExitFindings:
		return findingsError(failedAll, opt.failOn)
	}
	// Each unreadable file already has its line on stderr: this one sums up.
	return &ExitError{Code: worst, Err: fmt.Errorf("%d of %d files could not be analysed (see above)", failed, len(paths))}
}

// countStdin counts the "-" arguments.
func countStdin(paths []string) int {
	n := 0
	for _, p := range paths {
		if p == "-" {
			n++
		}
	}
	return n
}

// displayName is how a file is named in the output: "-" is standard input.
func displayName(path string) string {
	if path == "-" {
		return "(stdin)"
	}
	return path
}

// analyzeInput analyses one argument of analyze: a file, or "-" for standard input.
func analyzeInput(deps Deps, path string, thresholds rules.Thresholds) (*model.Snapshot, error) {
	if path != "-" {
		return analyzeFile(path, thresholds)
	}
	if deps.In == nil {
		return nil, usageError("no standard input to read (-)")
	}
	data, err := io.ReadAll(io.LimitReader(deps.In, maxDocumentSize+1))
	if err != nil {
		return nil, usageError("read standard input: %v", err)
	}
	if len(data) > maxDocumentSize {
		return nil, usageError("standard input is larger than %d MiB: not a snapshot or report this tool reads", maxDocumentSize>>20)
	}
	return analyzeData(displayName(path), data, thresholds)
}

// analyzeFile reads path as a nodeinspect snapshot (rules run again with the thresholds)
// or as a Node.js diagnostic report.
func analyzeFile(path string, thresholds rules.Thresholds) (*model.Snapshot, error) {
	head, size, err := peekFile(path, 512)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("cannot read %w", err)}
	}
	if !isSnapshotHead(head) && size > maxReportSize {
		return nil, usageError("%s is %d MiB: a Node.js diagnostic report is a few MiB at most (is it a heap snapshot or a log?); give a report written by --report-uncaught-exception, --report-on-fatalerror or process.report.writeReport()", path, size>>20)
	}
	data, err := readDocument(path)
	if err != nil {
		return nil, err
	}
	return analyzeData(path, data, thresholds)
}

// analyzeData analyses the contents of one input called name.
func analyzeData(name string, data []byte, thresholds rules.Thresholds) (*model.Snapshot, error) {
	if isSnapshotHead(data) {
		snap, err := parseSnapshot(name, data)
		if err != nil {
			return nil, err
		}
		snap.Source, snap.SourceFile = "snapshot", name
		analyze.Reevaluate(snap, thresholds)
		return snap, nil
	}
	if len(data) > maxReportSize {
		return nil, usageError("%s is %d MiB: a Node.js diagnostic report is a few MiB at most (is it a heap snapshot or a log?)", name, len(data)>>20)
	}
	r, err := nodereport.Parse(data)
	if err != nil {
		what := "give a report written by --report-uncaught-exception, --report-on-fatalerror or process.report.writeReport(), or a snapshot written by `nodeinspect snapshot`"
		if errors.Is(err, nodereport.ErrMalformed) {
			what = "the file is cut short or not JSON: was the report still being written, or copied partially?"
		}
		return nil, usageError("%s: %v; %s", name, err, what)
	}
	return analyze.FromNodeReport(r, name, thresholds), nil
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
