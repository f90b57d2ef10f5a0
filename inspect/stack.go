package inspect

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
	"github.com/nodeinspect/nodeinspect/probes"
)

// StackOptions controls CollectStack.
type StackOptions struct {
	SessionOptions
	// Samples is how many times to pause (≥ 1); Interval the time between two pauses.
	Samples  int
	Interval time.Duration
	// Workers also dumps each worker thread.
	Workers bool
}

// Limits of --samples and --interval (usage errors outside them).
const (
	MaxStackSamples     = 1000
	MinStackInterval    = time.Millisecond
	DefaultStackSamples = 1
	// DefaultStackInterval is the time between two pauses of --samples.
	DefaultStackInterval = 10 * time.Millisecond
)

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

// precheckWindow is how long stackPrecheck watches the main thread at most, in slices of
// precheckSlice (each a few reads 3 ms apart).
const (
	precheckWindow = 30 * time.Millisecond
	precheckSlice  = 6 * time.Millisecond
)

// CheckStackOptions returns a usage error for samples or an interval out of range.
func CheckStackOptions(samples int, interval time.Duration) error {
	if samples < 1 || samples > MaxStackSamples {
		return fmt.Errorf("--samples %d: give 1 to %d", samples, MaxStackSamples)
	}
	if samples > 1 && interval < MinStackInterval {
		return fmt.Errorf("--interval %s: give at least %s (each pause stops the process's JavaScript for a moment)", interval, MinStackInterval)
	}
	return nil
}

// CollectStack attaches to pid, pauses its main thread (and with Workers each worker)
// Samples times, and returns the distinct stacks. Every pause is followed by a resume on
// every path; the session is closed (debugger disabled, inspector closed when nodeinspect
// opened it) before it returns. The document's Attach says what was left (Unconfirmed:
// exit 6). A main thread blocked in a system call that no pause can interrupt is refused
// (ErrAttachRefused) before anything is sent.
func (c *Collector) CollectStack(ctx context.Context, pid int, opt StackOptions) (*model.StackDoc, error) {
	if err := CheckStackOptions(opt.Samples, opt.Interval); err != nil {
		return nil, err
	}
	doc := &model.StackDoc{Schema: model.Schema, TakenAt: c.Now().UTC(), Threads: []model.StackThread{}, Warnings: []string{}}
	// The main thread is read while the safety checks run; the check before the signal
	// waits for it.
	type precheck struct {
		warning string
		err     error
	}
	pre := make(chan precheck, 1)
	go func() {
		w, err := c.stackPrecheck(ctx, pid)
		pre <- precheck{w, err}
	}()
	var blockedWarning string
	opt.Check = func(p *model.Process, _ *model.EventLoop) error {
		r := <-pre
		blockedWarning = r.warning
		return r.err
	}
	s, err := c.OpenSession(ctx, pid, opt.SessionOptions)
	if err != nil {
		var se *SessionError
		if errors.As(err, &se) {
			doc.Attach = se.Attach
		}
		return doc, err
	}
	doc.Process = s.Process
	if blockedWarning != "" {
		doc.Warnings = append(doc.Warnings, blockedWarning)
	}
	st := &stackRun{c: c, proc: s.Process, pid: pid, opt: opt, maps: map[string]*loadedMap{}}
	// Workers first: a worker's life is often short, the main thread's is not.
	if opt.Workers {
		var workers []model.StackThread
		workers, err = st.dumpWorkers(ctx, s)
		doc.Threads = append(doc.Threads, workers...)
	}
	var main *model.StackThread
	if err == nil {
		main, err = st.dumpMain(ctx, s)
	}
	a := s.Close(ctx)
	doc.Attach = a
	doc.Warnings = append(s.Warnings(), doc.Warnings...)
	doc.Warnings = append(doc.Warnings, st.warnings...)
	if main != nil {
		doc.Threads = append([]model.StackThread{*main}, doc.Threads...)
	}
	if err != nil {
		if errors.Is(err, errExiting) || s.Exited() {
			return doc, fmt.Errorf("process %d exited during the dump (it waited for nodeinspect's session to leave, which it then did): %w", pid, model.ErrNoProcess)
		}
		if errors.Is(err, attach.ErrNoAnswer) {
			err = fmt.Errorf("%w (the main thread may have entered a system call or native code that holds it)", err)
		}
		return doc, &SessionError{Attach: a, Err: err}
	}
	return doc, nil
}

// stackPrecheck reads the main thread a few times before anything is sent. A thread that
// stays in one blocking system call (not epoll, not the futex of Atomics.wait, which V8's
// interrupt wakes) would never answer a pause, nor the dead-man's switch: refused. A
// thread on CPU the whole time is a loop blocked in JavaScript (or native code): the dump
// goes ahead, with a warning (the returned sentence).
//
// The 30 ms are read in slices of precheckSlice, and the check ends at the first slice that
// sees the thread waiting in epoll: such a thread answers the inspector (its loop turns),
// and that is the whole check's verdict too, so an idle process does not wait 30 ms.
func (c *Collector) stackPrecheck(ctx context.Context, pid int) (string, error) {
	s := probes.LoopSamples{Counts: map[string]int{}}
	for s.Elapsed < precheckWindow && s.Counts["epoll"] == 0 {
		part, err := c.FS.SampleMainThread(ctx, pid, precheckSlice, 3*time.Millisecond)
		if err != nil {
			if probes.IsGone(err) {
				return "", fmt.Errorf("process %d exited before the attach: %w", pid, model.ErrNoProcess)
			}
			return "", nil // cannot tell: the pause's own time limit decides
		}
		s.Samples += part.Samples
		for what, n := range part.Counts {
			s.Counts[what] += n
		}
		// At least one slice's worth, so a sampler that reads nothing still ends.
		s.Elapsed += max(part.Elapsed, precheckSlice)
	}
	if s.Samples < 5 || s.Counts["epoll"] > 0 {
		return "", nil
	}
	if len(s.Counts) == 1 {
		for what, n := range s.Counts {
			if n != s.Samples {
				break
			}
			switch {
			case what == "running":
				return "the main thread was on CPU the whole time and never waited for events: its event loop is blocked (the stack shows where)", nil
			case what == "futex":
				return "", nil // Atomics.wait (V8's interrupt wakes it) or a lock: the pause's time limit decides
			case what == "stopped", what == "zombie", what == "dead":
				return "", nil // the safety checks and the session say so
			}
			return "", fmt.Errorf("%w: the main thread of process %d stayed in a blocking system call (%s) for the whole %s check: JavaScript pauses and the inspector's own messages are only answered when it returns, so nothing was sent (a synchronous call such as fs.readSync on a pipe, execSync or a native addon; `nodeinspect report %d` shows it)",
				model.ErrAttachRefused, pid, syscallState(what), s.Elapsed.Round(time.Millisecond), pid)
		}
	}
	return "", nil
}

// syscallState turns a loop-sampler category into a thread state.
func syscallState(what string) string {
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

// stackRun is one dump.
type stackRun struct {
	c        *Collector
	proc     *model.Process
	pid      int
	opt      StackOptions
	maps     map[string]*loadedMap
	warnings []string
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

// errExiting is returned when the process exits during the dump and waits for our
// session to leave.
var errExiting = errors.New("the process is exiting and waits for nodeinspect's session to leave")

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

// dumpMain samples the main thread.
func (st *stackRun) dumpMain(ctx context.Context, s *Session) (*model.StackThread, error) {
	th := &model.StackThread{Thread: "main", Stacks: []model.StackSample{}}
	err := st.sample(ctx, s, th, func() string { return st.threadState(st.pid) })
	return th, err
}

// threadState reads the thread's state once from /proc.
func (st *stackRun) threadState(tid int) string {
	s, err := st.c.FS.SampleMainThread(context.Background(), tid, 0, time.Millisecond)
	if err != nil || s.Samples == 0 {
		return "unknown"
	}
	for what := range s.Counts {
		return syscallState(what)
	}
	return "unknown"
}

// sample enables the debugger on t, pauses it opt.Samples times (each pause resumed at
// once), and fills th. The debugger is disabled again before it returns.
func (st *stackRun) sample(ctx context.Context, t debugTarget, th *model.StackThread, state func() string) error {
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
	tracef("stack: debugger enabled, %d scripts", len(scripts))
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
	for i := 0; i < st.opt.Samples; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("interrupted after %d samples: %w", i, ctx.Err())
			case <-time.After(st.opt.Interval):
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted after %d samples: %w", i, ctx.Err())
		}
		if exiting(t) {
			return errExiting
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
		tracef("stack: paused and resumed")
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
func (st *stackRun) pauseOnce(ctx context.Context, t debugTarget, paused *[]pausedEvent, pending *bool, state func() string) (ev pausedEvent, answered bool, seen string, err error) {
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
			return pausedEvent{}, false, seen, errExiting
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
func (st *stackRun) frames(ev pausedEvent, scripts map[string]scriptInfo) []model.Frame {
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
func (st *stackRun) mapFrame(f *model.Frame, scriptURL, mapURL string, line, col int) {
	key := scriptURL + "\x00" + mapURL
	lm := st.maps[key]
	if lm == nil {
		lm = st.loadMap(scriptURL, mapURL)
		st.maps[key] = lm
		if lm.err != nil {
			st.warnings = append(st.warnings, fmt.Sprintf("%s: %v; its frames show generated positions", displayURL(scriptURL), lm.err))
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
func (st *stackRun) loadMap(scriptURL, mapURL string) *loadedMap {
	inline, file, err := sourcemap.Location(scriptURL, mapURL)
	if err != nil {
		return &loadedMap{err: err}
	}
	data := inline
	if file != "" {
		p := filepath.Join(st.c.FS.PidPath(st.pid, "root"), file)
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
