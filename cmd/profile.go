package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v3"
	"golang.org/x/sys/unix"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/jsstack"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/profile"
	"github.com/nodeinspect/nodeinspect/inspect/session"
	"github.com/nodeinspect/nodeinspect/inspect/v8prof"
	"github.com/nodeinspect/nodeinspect/report"
)

// Limits of --duration for profile and heap: shorter than 100 ms holds too few samples to
// rank anything; longer than an hour is a job for a continuous profiler.
const (
	minProfileDuration = 100 * time.Millisecond
	maxProfileDuration = time.Hour
)

// sessionFlags are the flags of the commands that always attach (profile, heap, arm).
func sessionFlags() []cli.Flag {
	return append(outputFlags(),
		anyFlag(),
		attachTimeoutFlag("time limit of each attach step"),
		&cli.BoolFlag{Name: "allow-sigusr1-users", Usage: "send SIGUSR1 even to a process known to use it itself (pm2)"},
	)
}

// recordingFlags are --duration, -o, --force and --top.
func recordingFlags(defaultDuration time.Duration, outputUsage string) []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "duration", Value: defaultDuration, Usage: "how long to record (100ms to 1h); Ctrl-C ends early and still writes",
			Validator: durationIn("duration", minProfileDuration, maxProfileDuration, "100ms up to 1h")},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: outputUsage},
		&cli.BoolFlag{Name: "force", Usage: "overwrite the output file if it exists"},
		&cli.IntFlag{Name: "top", Value: 15, Usage: "rows per list in the terminal and in JSON (0: all)"},
	}
}

// attachedCommand is what a command that always attaches (profile, heap, arm) reads from
// its command line, once: the pid, the common flags and the session's options.
type attachedCommand struct {
	pid     int
	opt     options
	session inspect.SessionOptions
}

// readAttachedCommand reads the pid, the common flags and the session flags (sessionFlags)
// of c.
func readAttachedCommand(c *cli.Command, deps Deps) (attachedCommand, error) {
	pid, opt, err := pidAndOptions(c, deps)
	if err != nil {
		return attachedCommand{}, err
	}
	return attachedCommand{pid: pid, opt: opt, session: inspect.SessionOptions{Options: inspect.Options{
		Any:               opt.any,
		Sample:            inspect.DefaultSampleWindow,
		SampleEvery:       inspect.DefaultSampleEvery,
		AttachTimeout:     c.Duration("attach-timeout"), // range: attachTimeoutFlag
		CloserBound:       envDuration(deps, "NODEINSPECT_CLOSER_BOUND"),
		Deadman:           envDuration(deps, "NODEINSPECT_DEADMAN"),
		AllowSIGUSR1Users: c.Bool("allow-sigusr1-users"),
	}}}, nil
}

// recording is what a command that records over a window (profile, heap) reads from the
// recordingFlags: how long, where to write (path, and its extension ext; "" for none),
// whether to overwrite, and how many rows to print.
type recording struct {
	duration  time.Duration
	path, ext string
	force     bool
	top       int
}

// readRecording reads the recordingFlags of c; -o must end in one of exts (checkOutput).
func readRecording(c *cli.Command, exts ...string) (recording, error) {
	path, ext, err := checkOutput(c, exts...)
	if err != nil {
		return recording{}, err
	}
	// --duration's range: its Validator; --top's: addValidators.
	return recording{duration: c.Duration("duration"), path: path, ext: ext, force: c.Bool("force"), top: int(c.Int("top"))}, nil
}

// openCommandSession attaches with the command line's options; an attach that failed after
// sending something and left it open is exit 6.
func openCommandSession(ctx context.Context, deps Deps, a attachedCommand) (*session.Session, error) {
	s, err := newCollector(deps, a.opt).OpenSession(ctx, a.pid, a.session)
	if err != nil {
		var se *session.SessionError
		if errors.As(err, &se) && se.Attach.Unconfirmed() {
			return nil, unconfirmedError(a.pid, se.Attach)
		}
		return nil, err
	}
	return s, nil
}

// closeCommandSession closes the session; something left open is exit 6, which wins over
// err (err's text is kept as a warning).
func closeCommandSession(ctx context.Context, deps Deps, s *session.Session, err error) error {
	a := s.Close(ctx)
	if a.Unconfirmed() {
		if err != nil {
			printWarnings(deps, []string{err.Error()})
		}
		return unconfirmedError(s.PID(), a)
	}
	return err
}

// checkOutput checks -o before anything is sent: a known extension (returned), not an
// existing file unless --force, a directory we can write to. "" when no -o.
func checkOutput(c *cli.Command, exts ...string) (path, ext string, err error) {
	path = c.String("output")
	if path == "" {
		return "", "", nil
	}
	for _, e := range exts {
		if strings.HasSuffix(path, e) {
			ext = e
		}
	}
	if ext == "" {
		return "", "", usageError("-o %s: give a file name ending in %s", path, strings.Join(exts, ", "))
	}
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return "", "", usageError("-o %s is a directory", path)
		}
		if !c.Bool("force") {
			return "", "", usageError("-o %s exists; nothing was sent to the process: pass --force to overwrite it", path)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", "", usageError("-o %s: %v", path, err)
	}
	dir := filepath.Dir(path)
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return "", "", usageError("-o %s: cannot write to directory %s (%v); nothing was sent to the process", path, dir, err)
	}
	return path, ext, nil
}

// writeStreamAtomic is writeFileAtomic for output written as it comes (a profile, a heap
// snapshot streamed from the inspector): through a temporary file in the same directory, renamed into
// place when complete: a failed write never leaves half a file under the name.
func writeStreamAtomic(path string, write func(w io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// endWarning says how a recording that stopped early ended.
func endWarning(pid int, end model.ProfileEnd, took time.Duration, what string) string {
	switch end {
	case model.EndExiting:
		return fmt.Sprintf("process %d began to exit after %s: the %s covers the time until then", pid, took.Round(time.Millisecond), what)
	case model.EndGone:
		return fmt.Sprintf("process %d exited after %s: the %s covers the time until then", pid, took.Round(time.Millisecond), what)
	case model.EndInterrupted:
		return fmt.Sprintf("interrupted after %s: the %s covers the time until then", took.Round(time.Millisecond), what)
	}
	return ""
}

// newProfileCommand is `nodeinspect profile <pid>`.
func newProfileCommand(deps Deps) *cli.Command {
	flags := append(sessionFlags(), recordingFlags(10*time.Second, "write the profile: .cpuprofile (Chrome DevTools, speedscope), .pb.gz (pprof) or .folded (collapsed stacks)")...)
	flags = append(flags,
		&cli.DurationFlag{Name: "interval", Value: time.Millisecond, Usage: "sampling interval (100us to 1s)",
			Validator: durationIn("interval", 100*time.Microsecond, time.Second, "100us up to 1s")},
		&cli.BoolFlag{Name: "no-source-maps", Usage: "show generated positions (do not ask the Debugger domain for the scripts' source maps)"},
	)
	return &cli.Command{
		Name:      "profile",
		Usage:     "CPU profile of the main thread through the inspector: top functions; -o FILE (.cpuprofile, .pb.gz, .folded)",
		ArgsUsage: "<pid>",
		Flags:     flags,
		Action: func(ctx context.Context, c *cli.Command) error {
			a, err := readAttachedCommand(c, deps)
			if err != nil {
				return err
			}
			rec, err := readRecording(c, ".cpuprofile", ".pb.gz", ".folded")
			if err != nil {
				return err
			}
			return runProfile(ctx, deps, profileOptions{attachedCommand: a, recording: rec,
				interval: c.Duration("interval"), sourceMaps: !c.Bool("no-source-maps")}) // --interval's range: its Validator
		},
	}
}

// profileOptions are profile's flags, read once.
type profileOptions struct {
	attachedCommand
	recording
	// interval is --interval, the sampling interval; sourceMaps is not --no-source-maps.
	interval   time.Duration
	sourceMaps bool
}

// runProfile records a CPU profile of o.pid and prints (and with -o writes) it.
func runProfile(ctx context.Context, deps Deps, o profileOptions) error {
	pid, opt, d, interval, path, ext := o.pid, o.opt, o.duration, o.interval, o.path, o.ext
	s, err := openCommandSession(ctx, deps, o.attachedCommand)
	if err != nil {
		return err
	}
	takenAt := deps.Now()
	started := time.Now()
	// NODEINSPECT_CPU_SEGMENT shortens the segments (tests: a merge of real segments).
	prof, end, recErr := profile.RecordCPU(ctx, s, d, interval, envDuration(deps, "NODEINSPECT_CPU_SEGMENT"))
	took := time.Since(started)
	doc := &model.ProfileDoc{Schema: model.Schema, TakenAt: takenAt.UTC(), Process: s.Process, Warnings: s.Warnings()}
	var fm *jsstack.FrameMapper
	if prof != nil && o.sourceMaps && end == model.EndDuration && recErr == nil { // after Ctrl-C or an exit: leave at once, unmapped
		fm = jsstack.NewFrameMapper(ctx, s, s.FS(), s.Process, s.PID(), profileScripts(prof, o.top))
	}
	a := s.Close(ctx)
	doc.Attach = a
	if prof == nil {
		return nothingRecorded(deps, pid, a, recErr, "the profiler")
	}
	if w := endWarning(pid, end, took, "profile"); w != "" {
		doc.Warnings = append(doc.Warnings, w)
	}
	if recErr != nil {
		doc.Warnings = append(doc.Warnings, "the profile is partial: "+recErr.Error())
	}
	if path != "" {
		err := writeStreamAtomic(path, func(w io.Writer) error {
			switch ext {
			case ".cpuprofile":
				return json.NewEncoder(w).Encode(prof)
			case ".pb.gz":
				return prof.WritePprof(w, takenAt)
			}
			return prof.WriteFolded(w)
		})
		if err != nil {
			return err
		}
		doc.File = &path
	}
	doc.Profile = profile.NewCPUDoc(prof, o.top, end, fm)
	if fm != nil {
		doc.Warnings = append(doc.Warnings, fm.Warnings()...)
	}
	if err := report.RenderProfile(deps.Out, doc, renderOptions(deps, opt, "profile")); err != nil {
		return err
	}
	if a.Unconfirmed() {
		printWarnings(deps, withoutString(doc.Warnings, "attach: "+a.LeftOpen))
		return unconfirmedError(pid, a)
	}
	printWarnings(deps, doc.Warnings)
	return nil
}

// profileScripts are the scripts of the frames the summary shows: only their source maps
// are looked up.
func profileScripts(p *v8prof.CPUProfile, top int) map[string]bool {
	ids := map[string]bool{}
	sum := p.Summarize(top)
	for _, list := range [][]v8prof.FunctionStat{sum.BySelf, sum.ByTotal} {
		for _, st := range list {
			if st.Frame.URL != "" {
				ids[st.Frame.ScriptID] = true
			}
		}
	}
	for _, f := range sum.Hottest {
		if f.URL != "" {
			ids[f.ScriptID] = true
		}
	}
	return ids
}

// nothingRecorded is the end of a recording that returned nothing (profile, heap): the
// recorder's error (or "<recorder> returned nothing"), or exit 6 when the session's
// inspector could not be confirmed closed, with the error as a warning.
func nothingRecorded(deps Deps, pid int, a *model.Attach, recErr error, recorder string) error {
	if recErr == nil {
		recErr = errors.New(recorder + " returned nothing")
	}
	if a.Unconfirmed() {
		printWarnings(deps, []string{recErr.Error()})
		return unconfirmedError(pid, a)
	}
	return recErr
}
