// Package jsstack takes JavaScript stacks through an inspector session: the Sampler pauses
// a thread a few times with the Debugger domain (each pause resumed at once, the debugger
// disabled again on every path), counts the stacks it finds, reads the thread's state from
// /proc when a pause is not answered, dumps worker threads through NodeWorker, and maps
// frames through source maps (the FrameMapper does the same for profiles). Opening and
// closing the session is the caller's job (inspect).
package jsstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/sourcemap"
	"github.com/nodeinspect/nodeinspect/internal/trace"
	"github.com/nodeinspect/nodeinspect/probes"
)

// SyscallState turns a loop-sampler category into a thread state.
func SyscallState(what string) string {
	switch {
	case what == "epoll":
		return "idle"
	case what == "running":
		return "running"
	case strings.HasPrefix(what, "syscall:"):
		return what
	case strings.HasPrefix(what, "sleeping:"):
		return "syscall:" + strings.TrimPrefix(what, "sleeping:")
	case what == "sleeping":
		return "syscall:unknown"
	}
	return "syscall:" + what
}

// Sampler is one dump.
type Sampler struct {
	fs       probes.FS
	proc     *model.Process
	pid      int
	samples  int
	interval time.Duration
	maps     map[string]*loadedMap
	Warnings []string
}

// loadedMap is a script's source map, or why it could not be used.
type loadedMap struct {
	m    *sourcemap.SourceMap
	file string
	err  error
}

// scriptInfo is what Debugger.scriptParsed said about one script.
type scriptInfo struct {
	URL          string `json:"url"`
	SourceMapURL string `json:"sourceMapURL"`
}

// pausedEvent is Debugger.paused.
type pausedEvent struct {
	Reason     string `json:"reason"`
	CallFrames []struct {
		FunctionName string `json:"functionName"`
		URL          string `json:"url"`
		Location     struct {
			ScriptID     string `json:"scriptId"`
			LineNumber   int    `json:"lineNumber"`
			ColumnNumber int    `json:"columnNumber"`
		} `json:"location"`
	} `json:"callFrames"`
}

// ErrExiting is returned when the process exits during the dump and waits for our
// session to leave.
var ErrExiting = errors.New("the process is exiting and waits for nodeinspect's session to leave")

// exitingTarget is a debugTarget that can tell the process is exiting (the Session).
type exitingTarget interface{ Exiting() bool }

// exiting reports whether t says its process is exiting.
func exiting(t debugTarget) bool {
	e, ok := t.(exitingTarget)
	return ok && e.Exiting()
}

// debugTarget is a thread that takes protocol commands: the main thread's session, or a
// worker's session inside it.
type debugTarget interface {
	Call(ctx context.Context, method string, params, result any) error
	Subscribe(method string, fn func(attach.Event))
	NextEvent(ctx context.Context) (attach.Event, error)
}

// DumpMain samples the main thread.
func (st *Sampler) DumpMain(ctx context.Context, s debugTarget) (*model.StackThread, error) {
	th := &model.StackThread{Thread: "main", Stacks: []model.StackSample{}}
	err := st.Sample(ctx, s, th, func() string { return st.ThreadState(st.pid) })
	return th, err
}

// ThreadState reads the thread's state once from /proc.
func (st *Sampler) ThreadState(tid int) string {
	s, err := st.fs.SampleMainThread(context.Background(), tid, 0, time.Millisecond)
	if err != nil || s.Samples == 0 {
		return "unknown"
	}
	for what := range s.Counts {
		return SyscallState(what)
	}
	return "unknown"
}

// Sample enables the debugger on t, pauses it opt.Samples times (each pause resumed at
// once), and fills th. The debugger is disabled again before it returns.
func (st *Sampler) Sample(ctx context.Context, t debugTarget, th *model.StackThread, state func() string) error {
	scripts := map[string]scriptInfo{}
	t.Subscribe("Debugger.scriptParsed", func(ev attach.Event) {
		var s struct {
			ScriptID string `json:"scriptId"`
			scriptInfo
		}
		if json.Unmarshal(ev.Params, &s) == nil {
			scripts[s.ScriptID] = s.scriptInfo
		}
	})
	var paused []pausedEvent
	t.Subscribe("Debugger.paused", func(ev attach.Event) {
		var p pausedEvent
		if json.Unmarshal(ev.Params, &p) == nil {
			paused = append(paused, p)
		}
	})
	if err := t.Call(ctx, "Debugger.enable", nil, nil); err != nil {
		return fmt.Errorf("enable the debugger: %w", err)
	}
	trace.Printf("stack: debugger enabled, %d scripts", len(scripts))
	pending := false
	defer func() {
		// Withdraw a pause still pending, and end one that lands meanwhile: resume, then
		// disable (which also resumes).
		off, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if pending {
			_ = t.Call(off, "Debugger.resume", nil, nil) // "not paused" is the usual answer
		}
		_ = t.Call(off, "Debugger.disable", nil, nil)
	}()
	if len(paused) > 0 {
		// Paused before we asked: at a breakpoint of another debugger, or at the start
		// (--inspect-brk). That pause is not ours to end.
		th.State = "paused"
		th.Note = "paused by another debugger (a breakpoint, or --inspect-brk at start) before nodeinspect came; not resumed"
		th.Samples, th.Answered = 1, 1
		th.Stacks = append(th.Stacks, model.StackSample{Count: 1, Frames: st.frames(paused[0], scripts)})
		return nil
	}
	counts := map[string]*model.StackSample{}
	var order []string
	states := map[string]int{}
	for i := 0; i < st.samples; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("interrupted after %d samples: %w", i, ctx.Err())
			case <-time.After(st.interval):
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted after %d samples: %w", i, ctx.Err())
		}
		if exiting(t) {
			return ErrExiting
		}
		before := state()
		th.Samples++
		ev, answered, seen, err := st.pauseOnce(ctx, t, &paused, &pending, state)
		if err != nil {
			return err
		}
		if !answered {
			s := seen
			if s == "" {
				s = before
			}
			if s == "idle" {
				th.Note = "idle, waiting for events"
			}
			if s == "running" {
				s = "native"
			}
			states[s]++
			continue
		}
		states[before]++
		th.Answered++
		trace.Printf("stack: paused and resumed")
		frames := st.frames(ev, scripts)
		key := frameKey(frames)
		if counts[key] == nil {
			counts[key] = &model.StackSample{Frames: frames}
			order = append(order, key)
		}
		counts[key].Count++
	}
	for _, k := range order {
		th.Stacks = append(th.Stacks, *counts[k])
	}
	sort.SliceStable(th.Stacks, func(i, j int) bool { return th.Stacks[i].Count > th.Stacks[j].Count })
	th.State = mostCommon(states)
	if th.Answered == 0 && th.Note == "" {
		switch {
		case isInspectBrk(st.proc):
			th.Note = "no pause was answered: the process was started with --inspect-brk and may be waiting for a debugger at its start; not resumed"
		case strings.HasPrefix(th.State, "syscall:"):
			th.Note = fmt.Sprintf("no pause was answered: the thread is in a system call (%s) and answers when it returns", strings.TrimPrefix(th.State, "syscall:"))
		default:
			th.Note = "no pause was answered within " + pauseWait.String() + ": the thread runs native code (a native addon, a synchronous crypto or zlib call, or garbage collection)"
		}
	} else if th.Answered > 0 && th.Answered < th.Samples && th.Note == "idle, waiting for events" {
		th.Note = fmt.Sprintf("idle, waiting for events in %d of %d samples", th.Samples-th.Answered, th.Samples)
	}
	return nil
}

// pauseOnce takes one sample: it asks for a pause (unless one asked for earlier is still
// pending: an idle thread answers it only when an event comes) and waits up to pauseWait,
// giving up early when the thread is seen idle in epoll twice in a row after idleAfter. An
// answered pause is resumed at once, on every path (even when ctx was cancelled). An
// unanswered one stays pending for the next sample; the caller withdraws it at the end
// (a disable ends the request, and a pause that lands before it: measured on Node 20.20).
// A pause that lands between two samples is resumed and not counted.
//
// seen is the thread's state as last read while the pause was not answered ("" when the
// pause was answered or the state was never read).
func (st *Sampler) pauseOnce(ctx context.Context, t debugTarget, paused *[]pausedEvent, pending *bool, state func() string) (ev pausedEvent, answered bool, seen string, err error) {
	resume := func() error {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		err := t.Call(c, "Debugger.resume", nil, nil)
		*pending = false
		return err
	}
	if *pending && len(*paused) > 0 {
		// It landed between two samples: not this sample's stack.
		*paused = (*paused)[:0]
		if err := resume(); err != nil {
			return pausedEvent{}, false, "", fmt.Errorf("resume after the pause: %w", err)
		}
	}
	if !*pending {
		*paused = (*paused)[:0]
		*pending = true
		if err := t.Call(ctx, "Debugger.pause", nil, nil); err != nil {
			return pausedEvent{}, false, "", fmt.Errorf("pause: %w", err)
		}
	}
	start := time.Now()
	idleSeen := 0
	for len(*paused) == 0 && time.Since(start) < pauseWait && ctx.Err() == nil {
		if exiting(t) {
			return pausedEvent{}, false, seen, ErrExiting
		}
		slice, cancel := context.WithTimeout(ctx, pauseSlice)
		_, err := t.NextEvent(slice)
		timedOut := slice.Err() != nil
		cancel()
		if err != nil && !timedOut {
			return pausedEvent{}, false, seen, fmt.Errorf("wait for the pause: %w", err)
		}
		if len(*paused) == 0 && timedOut && time.Since(start) >= idleAfter && state != nil {
			seen = state()
			if seen == "idle" {
				idleSeen++
			} else {
				idleSeen = 0
			}
			if idleSeen >= 2 {
				break
			}
		}
	}
	if len(*paused) > 0 {
		ev := (*paused)[0]
		*paused = (*paused)[:0]
		if err := resume(); err != nil {
			return ev, true, "", fmt.Errorf("resume after the pause: %w", err)
		}
		return ev, true, "", nil
	}
	if ctx.Err() != nil {
		return pausedEvent{}, false, seen, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return pausedEvent{}, false, seen, nil
}

// frames turns a pause's call frames into Frames, mapped where the script has a map.
func (st *Sampler) frames(ev pausedEvent, scripts map[string]scriptInfo) []model.Frame {
	out := make([]model.Frame, 0, len(ev.CallFrames))
	for _, cf := range ev.CallFrames {
		info := scripts[cf.Location.ScriptID]
		u := cf.URL
		if u == "" {
			u = info.URL
		}
		f := model.Frame{Function: cf.FunctionName, URL: displayURL(u), Line: cf.Location.LineNumber + 1, Column: cf.Location.ColumnNumber + 1}
		if f.Function == "" {
			f.Function = "(anonymous)"
		}
		if info.SourceMapURL != "" {
			st.mapFrame(&f, u, info.SourceMapURL, cf.Location.LineNumber, cf.Location.ColumnNumber)
		}
		out = append(out, f)
	}
	return out
}

// mapFrame maps f through the script's source map, loading it once per script. A map
// that cannot be read or decoded leaves the generated position and adds one warning.
func (st *Sampler) mapFrame(f *model.Frame, scriptURL, mapURL string, line, col int) {
	key := scriptURL + "\x00" + mapURL
	lm := st.maps[key]
	if lm == nil {
		lm = st.loadMap(scriptURL, mapURL)
		st.maps[key] = lm
		if lm.err != nil {
			st.Warnings = append(st.Warnings, fmt.Sprintf("%s: %v; its frames show generated positions", displayURL(scriptURL), lm.err))
		}
	}
	if lm.err != nil {
		return
	}
	src, ol, oc, _, ok := lm.m.Lookup(line, col)
	if !ok {
		return
	}
	f.Generated = &model.FramePosition{URL: f.URL, Line: f.Line, Column: f.Column}
	f.URL = displayURL(sourcemap.OriginalSource(lm.file, scriptURL, src))
	f.Line, f.Column, f.Mapped = ol+1, oc+1, true
}

// loadMap reads and decodes a script's map: inline, or a file read through the target's
// own root (/proc/<pid>/root), so a process in a container has its own files read.
func (st *Sampler) loadMap(scriptURL, mapURL string) *loadedMap {
	inline, file, err := sourcemap.Location(scriptURL, mapURL)
	if err != nil {
		return &loadedMap{err: err}
	}
	data := inline
	if file != "" {
		p := filepath.Join(st.fs.PidPath(st.pid, "root"), file)
		fi, err := os.Stat(p)
		if err == nil && fi.Size() > sourcemap.MaxBytes {
			return &loadedMap{err: fmt.Errorf("source map %s is %d bytes, larger than %d", file, fi.Size(), sourcemap.MaxBytes)}
		}
		data, err = os.ReadFile(p)
		if err != nil {
			return &loadedMap{err: fmt.Errorf("source map %s: %w", file, err)}
		}
	}
	m, err := sourcemap.Parse(data)
	if err != nil {
		where := "inline source map"
		if file != "" {
			where = "source map " + file
		}
		return &loadedMap{err: fmt.Errorf("%s: %w", where, err)}
	}
	return &loadedMap{m: m, file: file}
}

// displayURL shows a file:// URL as its path.
func displayURL(u string) string {
	if p := sourcemap.ScriptPath(u); p != "" && strings.HasPrefix(u, "file://") {
		return p
	}
	return u
}

// frameKey identifies a stack for counting.
func frameKey(frames []model.Frame) string {
	var b strings.Builder
	for _, f := range frames {
		fmt.Fprintf(&b, "%s\x00%s\x00%d\x00%d\n", f.Function, f.URL, f.Line, f.Column)
	}
	return b.String()
}

// mostCommon is the most frequent key (ties: alphabetical), "unknown" for none.
func mostCommon(m map[string]int) string {
	best, n := "unknown", 0
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if m[k] > n {
			best, n = k, m[k]
		}
	}
	return best
}

// isInspectBrk reports whether the process was started with --inspect-brk.
func isInspectBrk(p *model.Process) bool {
	if p == nil {
		return false
	}
	for _, a := range p.Cmdline {
		if strings.HasPrefix(a, "--inspect-brk") {
			return true
		}
	}
	return false
}

// pauseWait is how long a pause may take to be answered before the thread's state from
// /proc decides: a thread running JavaScript answers within a few milliseconds (V8
// checks for interrupts at every function entry and loop back edge); one idle in epoll
// never does until an event comes.
const pauseWait = 150 * time.Millisecond

// pauseSlice is how often a waiting pause looks at the thread; idleAfter is how long a
// pause is given before a thread idle in epoll counts as idle: the pause request itself
// wakes the loop for a moment, and anything it runs then is paused within this time.
const (
	pauseSlice = 5 * time.Millisecond
	idleAfter  = 10 * time.Millisecond
)

// newStackRun is a sampler of the threads of pid: samples pauses, interval apart, each
// frame mapped through its script's source map (read from the process's root).
func NewSampler(fs probes.FS, proc *model.Process, pid, samples int, interval time.Duration) *Sampler {
	return &Sampler{fs: fs, proc: proc, pid: pid, samples: samples, interval: interval, maps: map[string]*loadedMap{}}
}
