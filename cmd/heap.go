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
	"github.com/nodeinspect/nodeinspect/inspect/heapsnap"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/profile"
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
		&cli.DurationFlag{Name: "snapshot-timeout", Value: profile.SnapshotTimeout, Usage: "give up a snapshot that takes longer",
			Validator: durationIn("snapshot-timeout", time.Second, 24*time.Hour, "1s up to 24h")},
	)
	return &cli.Command{
		Name:      "heap",
		Usage:     "sampling heap profile over --duration (allocation sites of live memory); --snapshot -o FILE.heapsnapshot a full snapshot and its summary",
		ArgsUsage: "<pid>",
		Flags:     flags,
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := readHeapOptions(c, deps)
			if err != nil {
				return err
			}
			if o.snapshot {
				return runHeapSnapshot(ctx, deps, o)
			}
			return runHeapSampling(ctx, deps, o)
		},
	}
}

// heapOptions are heap's flags, read once.
type heapOptions struct {
	attachedCommand
	recording
	// snapshot is --snapshot (a full snapshot, with snapshotTimeout its time limit);
	// samplingBytes is --sampling-bytes of a sampling profile.
	snapshot        bool
	snapshotTimeout time.Duration
	samplingBytes   int64
}

// readHeapOptions reads heap's flags and refuses those that do not apply to the mode.
func readHeapOptions(c *cli.Command, deps Deps) (heapOptions, error) {
	a, err := readAttachedCommand(c, deps)
	if err != nil {
		return heapOptions{}, err
	}
	o := heapOptions{attachedCommand: a, snapshot: c.Bool("snapshot"), snapshotTimeout: c.Duration("snapshot-timeout"),
		samplingBytes: int64(c.Int("sampling-bytes"))} // --sampling-bytes' range: its Validator
	if o.snapshot {
		if o.recording, err = readRecording(c, ".heapsnapshot"); err != nil {
			return o, err
		}
		if o.path == "" {
			return o, usageError("heap --snapshot needs -o FILE.heapsnapshot (the snapshot is streamed there, never written inside the process)")
		}
		for _, f := range []string{"duration", "sampling-bytes"} {
			if c.IsSet(f) {
				return o, usageError("--%s does not apply to --snapshot (a snapshot is one moment, not a sampling)", f)
			}
		}
		return o, nil
	}
	if c.IsSet("snapshot-timeout") {
		return o, usageError("--snapshot-timeout applies to --snapshot only")
	}
	o.recording, err = readRecording(c, ".heapprofile", ".pb.gz")
	return o, err
}

// runHeapSampling records a sampling heap profile of o.pid and prints (and with -o writes) it.
func runHeapSampling(ctx context.Context, deps Deps, o heapOptions) error {
	pid, opt, d, samplingBytes, path, ext := o.pid, o.opt, o.duration, o.samplingBytes, o.path, o.ext
	s, err := openCommandSession(ctx, deps, o.attachedCommand)
	if err != nil {
		return err
	}
	takenAt := deps.Now()
	started := time.Now()
	h, end, recErr := profile.RecordHeapSampling(ctx, s, d, samplingBytes)
	took := time.Since(started)
	doc := &model.HeapDoc{Schema: model.Schema, TakenAt: takenAt.UTC(), Process: s.Process, Warnings: s.Warnings()}
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
	doc.Heap = profile.NewSamplingHeapDoc(h, o.top, end)
	return finishHeap(deps, opt, doc, a)
}

// finishHeap renders the document and decides the exit code.
func finishHeap(deps Deps, opt options, doc *model.HeapDoc, a *model.Attach) error {
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

// runHeapSnapshot takes a full heap snapshot of o.pid into o.path and prints its summary.
func runHeapSnapshot(ctx context.Context, deps Deps, o heapOptions) error {
	pid, opt, path := o.pid, o.opt, o.path
	s, err := openCommandSession(ctx, deps, o.attachedCommand)
	if err != nil {
		return err
	}
	takenAt := deps.Now()
	doc := &model.HeapDoc{Schema: model.Schema, TakenAt: takenAt.UTC(), Process: s.Process, Warnings: s.Warnings()}
	used, _, err := profile.HeapUsage(ctx, s)
	if err != nil {
		return closeCommandSession(ctx, deps, s, err)
	}
	hr, err := inspect.ReadHeadroom(ctx, probes.NewFS(opt.proc), pid, used)
	if err != nil {
		return closeCommandSession(ctx, deps, s, fmt.Errorf("measure the memory available for a snapshot: %w", err))
	}
	if !hr.Fits() {
		if !o.force {
			err := &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w: heap snapshot of process %d refused: %s; a snapshot can need as much memory again as the heap and push the process into the OOM killer. Nothing was taken: free memory, or pass --force to take it anyway", model.ErrAttachRefused, pid, hr.Sentence())}
			return closeCommandSession(ctx, deps, s, err)
		}
		doc.Warnings = append(doc.Warnings, "--force: taking the snapshot although memory is short: "+hr.Sentence())
	}
	var pause time.Duration
	var size int64
	err = writeStreamAtomic(path, func(w io.Writer) error {
		started := time.Now()
		n, err := profile.TakeHeapSnapshot(ctx, s, w, o.snapshotTimeout)
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
	sum, err := heapsnap.SummarizeSnapshot(f, 0)
	if err != nil {
		return fmt.Errorf("summarise %s: %w", path, err)
	}
	doc.Heap = profile.NewSnapshotHeapDoc(sum, o.top)
	pauseMS := pause.Milliseconds()
	doc.Heap.PauseMS, doc.Heap.SnapshotBytes, doc.Heap.Headroom = &pauseMS, &size, &hr
	return finishHeap(deps, opt, doc, a)
}
