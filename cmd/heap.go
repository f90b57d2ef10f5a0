package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/v8prof"
	"github.com/nodeinspect/nodeinspect/probes"
	"github.com/nodeinspect/nodeinspect/report"
)

// newHeapCommand is `nodeinspect heap <pid>`.
func newHeapCommand(deps Deps) *cli.Command {
	flags := append(sessionFlags(), recordingFlags(10*time.Second, "write the profile (.heapprofile, .pb.gz) or with --snapshot the snapshot (.heapsnapshot)")...)
	flags = append(flags,
		&cli.BoolFlag{Name: "snapshot", Usage: "a full heap snapshot (pauses the process; refused when memory is short, --force overrides) instead of a sampling profile"},
		&cli.IntFlag{Name: "sampling-bytes", Value: 32 << 10, Usage: "sampling heap profile: one sample per this many bytes allocated, on average",
			Validator: intIn("sampling-bytes", 1024, 64<<20, "1024 up to 67108864")},
		&cli.DurationFlag{Name: "snapshot-timeout", Value: inspect.SnapshotTimeout, Usage: "give up a snapshot that takes longer"},
	)
	return &cli.Command{
		Name:      "heap",
		Usage:     "sampling heap profile over --duration (allocation sites of live memory); --snapshot -o FILE.heapsnapshot a full snapshot and its summary",
		ArgsUsage: "<pid>",
		Flags:     flags,
		Action: func(ctx context.Context, c *cli.Command) error {
			pid, opt, err := pidAndOptions(c, deps)
			if err != nil {
				return err
			}
			if c.Bool("snapshot") {
				path, _, err := checkOutput(c, ".heapsnapshot")
				if err != nil {
					return err
				}
				if path == "" {
					return usageError("heap --snapshot needs -o FILE.heapsnapshot (the snapshot is streamed there, never written inside the process)")
				}
				for _, f := range []string{"duration", "sampling-bytes"} {
					if c.IsSet(f) {
						return usageError("--%s does not apply to --snapshot (a snapshot is one moment, not a sampling)", f)
					}
				}
				return runHeapSnapshot(ctx, c, deps, opt, pid, path)
			}
			if c.IsSet("snapshot-timeout") {
				return usageError("--snapshot-timeout applies to --snapshot only")
			}
			d := c.Duration("duration")  // range: recordingFlags' Validator
			b := c.Int("sampling-bytes") // range: its Validator
			path, ext, err := checkOutput(c, ".heapprofile", ".pb.gz")
			if err != nil {
				return err
			}
			return runHeapSampling(ctx, c, deps, opt, pid, d, int64(b), path, ext)
		},
	}
}

func runHeapSampling(ctx context.Context, c *cli.Command, deps Deps, opt options, pid int, d time.Duration, samplingBytes int64, path, ext string) error {
	s, err := openCommandSession(ctx, c, deps, opt, pid)
	if err != nil {
		return err
	}
	takenAt := deps.Now()
	started := time.Now()
	h, end, recErr := inspect.RecordHeapSampling(ctx, s, d, samplingBytes)
	took := time.Since(started)
	doc := &inspect.HeapDoc{Schema: inspect.Schema, TakenAt: takenAt.UTC(), Process: s.Process, Warnings: s.Warnings()}
	a := s.Close(ctx)
	doc.Attach = a
	if h == nil {
		return nothingRecorded(deps, pid, a, recErr, "the heap profiler")
	}
	if w := endWarning(pid, end, took, "heap profile"); w != "" {
		doc.Warnings = append(doc.Warnings, w)
	}
	if path != "" {
		err := writeStreamAtomic(path, func(w io.Writer) error {
			if ext == ".pb.gz" {
				return h.WritePprof(w, takenAt)
			}
			return json.NewEncoder(w).Encode(h)
		})
		if err != nil {
			return err
		}
		doc.File = &path
	}
	doc.Heap = inspect.NewSamplingHeapDoc(h, int(c.Int("top")), end)
	return finishHeap(deps, opt, doc, a)
}

// finishHeap renders the document and decides the exit code.
func finishHeap(deps Deps, opt options, doc *inspect.HeapDoc, a *inspect.Attach) error {
	if err := report.RenderHeap(deps.Out, doc, renderOptions(deps, opt, "heap")); err != nil {
		return err
	}
	if a.Unconfirmed() {
		printWarnings(deps, withoutString(doc.Warnings, "attach: "+a.LeftOpen))
		return unconfirmedError(doc.Process.PID, a)
	}
	printWarnings(deps, doc.Warnings)
	return nil
}

func runHeapSnapshot(ctx context.Context, c *cli.Command, deps Deps, opt options, pid int, path string) error {
	s, err := openCommandSession(ctx, c, deps, opt, pid)
	if err != nil {
		return err
	}
	takenAt := deps.Now()
	doc := &inspect.HeapDoc{Schema: inspect.Schema, TakenAt: takenAt.UTC(), Process: s.Process, Warnings: s.Warnings()}
	used, _, err := inspect.HeapUsage(ctx, s)
	if err != nil {
		return closeCommandSession(ctx, deps, s, err)
	}
	hr, err := inspect.ReadHeadroom(ctx, probes.NewFS(opt.proc), pid, used)
	if err != nil {
		return closeCommandSession(ctx, deps, s, fmt.Errorf("measure the memory available for a snapshot: %w", err))
	}
	if !hr.Fits() {
		if !c.Bool("force") {
			err := &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w: heap snapshot of process %d refused: %s; a snapshot can need as much memory again as the heap and push the process into the OOM killer. Nothing was taken: free memory, or pass --force to take it anyway", inspect.ErrAttachRefused, pid, hr.Sentence())}
			return closeCommandSession(ctx, deps, s, err)
		}
		doc.Warnings = append(doc.Warnings, "--force: taking the snapshot although memory is short: "+hr.Sentence())
	}
	var pause time.Duration
	var size int64
	err = writeStreamAtomic(path, func(w io.Writer) error {
		started := time.Now()
		n, err := inspect.TakeHeapSnapshot(ctx, s, w, c.Duration("snapshot-timeout"))
		pause, size = time.Since(started), n
		return err
	})
	a := s.Close(ctx)
	doc.Attach = a
	if err != nil {
		if a.Unconfirmed() {
			printWarnings(deps, []string{err.Error()})
			return unconfirmedError(pid, a)
		}
		return err
	}
	doc.File = &path
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read back %s: %w", path, err)
	}
	defer f.Close()
	sum, err := v8prof.SummarizeSnapshot(f, 0)
	if err != nil {
		return fmt.Errorf("summarise %s: %w", path, err)
	}
	doc.Heap = inspect.NewSnapshotHeapDoc(sum, int(c.Int("top")))
	pauseMS := pause.Milliseconds()
	doc.Heap.PauseMS, doc.Heap.SnapshotBytes, doc.Heap.Headroom = &pauseMS, &size, &hr
	return finishHeap(deps, opt, doc, a)
}
