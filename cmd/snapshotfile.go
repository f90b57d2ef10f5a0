package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/report"
)

// maxDocumentSize bounds a snapshot or report file read by diff and analyze (a snapshot of
// 100k fds is about 30 MB of JSON).
const maxDocumentSize = 256 << 20

// newSnapshotFileCommand writes the full JSON snapshot of a process to a file.
func newSnapshotFileCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:      "snapshot",
		Usage:     "save the full JSON snapshot of a process to a file (compare two with diff)",
		ArgsUsage: "<pid> -o FILE",
		// It always writes JSON (--json is accepted and changes nothing), and it records
		// rather than judges: --fail-on defaults to never, so a CI job that snapshots a
		// process with findings goes on to its tests (diff and report judge).
		Flags: append(failOnDefault(without(snapshotFlags(), "format", "no-color"), "never"),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "file to write (- for stdout)"}),
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := readSnapshotFileOptions(c, deps)
			if err != nil {
				return err
			}
			return runSnapshotFile(ctx, deps, o)
		},
	}
}

// snapshotFileOptions are snapshot's flags, read once: those of every per-process command
// (the whole snapshot) and -o, the file to write ("-": stdout).
type snapshotFileOptions struct {
	snapshotOptions
	output string
}

// readSnapshotFileOptions reads snapshot's flags; -o is required.
func readSnapshotFileOptions(c *cli.Command, deps Deps) (snapshotFileOptions, error) {
	so, err := readSnapshotOptions(c, deps, inspect.SectionAll)
	if err != nil {
		return snapshotFileOptions{}, err
	}
	o := snapshotFileOptions{snapshotOptions: so, output: c.String("output")}
	if o.output == "" {
		return o, usageError("snapshot needs -o FILE (or -o - for stdout)")
	}
	return o, nil
}

// runSnapshotFile collects the whole snapshot of o.pid and writes its JSON to o.output.
func runSnapshotFile(ctx context.Context, deps Deps, o snapshotFileOptions) error {
	pid, opt, out := o.pid, o.opt, o.output
	snap, err := newCollector(deps, opt).Collect(ctx, pid, o.collect)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, snap, report.Options{Format: report.FormatJSON}); err != nil {
		return err
	}
	if out == "-" {
		if err := writeOnce(deps, &buf); err != nil {
			return err
		}
	} else if err := writeFileAtomic(out, buf.Bytes()); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	printWarnings(deps, snap.Warnings)
	if out != "-" {
		fmt.Fprintf(deps.Err, "nodeinspect: wrote snapshot of pid %d to %s (%d findings)\n", pid, out, len(snap.Findings))
	}
	return findingsError(failing(snap.Findings, opt.failOn), opt.failOn)
}

// writeFileAtomic writes data to path through a temporary file in the same directory, so a
// reader never sees half a snapshot.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".nodeinspect-*.json")
	if err != nil {
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	return nil
}

// errNotSnapshot marks a file that is JSON but not a nodeinspect snapshot.
var errNotSnapshot = errors.New("not a nodeinspect snapshot")

// loadSnapshot reads a snapshot written by `nodeinspect snapshot` (or `report --json`).
// Every failure is a usage error (exit 2) that names the file.
func loadSnapshot(path string) (*model.Snapshot, error) {
	data, err := readDocument(path)
	if err != nil {
		return nil, err
	}
	return parseSnapshot(path, data)
}

// parseSnapshot decodes the snapshot document data read from path.
func parseSnapshot(path string, data []byte) (*model.Snapshot, error) {
	var head struct {
		Schema  *string         `json:"schema"`
		Process json.RawMessage `json:"process"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: not valid JSON (%v); give a file written by `nodeinspect snapshot`", path, err)}
	}
	switch {
	case head.Schema == nil:
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: %w (no \"schema\" key)", path, errNotSnapshot)}
	case *head.Schema != model.Schema:
		if strings.HasPrefix(*head.Schema, "nodeinspect/") {
			return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: schema %q is not %q: it was written by another nodeinspect version; use that version, or take both snapshots with this one", path, *head.Schema, model.Schema)}
		}
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: %w (schema %q)", path, errNotSnapshot, *head.Schema)}
	case len(head.Process) == 0 || string(head.Process) == "null":
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: %w (no process: a ps or diff document?)", path, errNotSnapshot)}
	}
	var s model.Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: %w: %v", path, errNotSnapshot, err)}
	}
	return &s, nil
}

// readDocument reads a whole input file, bounded by maxDocumentSize.
func readDocument(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("cannot read %w", err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDocumentSize+1))
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("read %s: %w", path, err)}
	}
	if len(data) > maxDocumentSize {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s is larger than %d MiB: not a snapshot or report this tool reads", path, maxDocumentSize>>20)}
	}
	return data, nil
}
