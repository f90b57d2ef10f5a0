package inspect

import (
	"fmt"
	"strings"
)

// crashTriggers are the report triggers of a process that died: an uncaught exception
// (--report-uncaught-exception; an unhandled rejection is one since Node.js 15), a fatal
// error and V8's out of memory (--report-on-fatalerror), and the oldest reports' location.
var crashTriggers = map[string]string{
	"Exception":    "an uncaught exception",
	"FatalError":   "a fatal error",
	"OOMError":     "JavaScript heap out of memory",
	"OnFatalError": "a fatal error",
}

// Crashed reports whether the report was written as the process died (an uncaught
// exception, a fatal error, an OOM), not for an error the program caught and passed to
// process.report.writeReport(). An error without a trigger (a snapshot saved before the
// trigger was kept) counts as a crash, as it always did.
func (e *NodeError) Crashed() bool {
	if e == nil {
		return false
	}
	if e.Trigger == "" {
		return true
	}
	_, ok := crashTriggers[e.Trigger]
	return ok
}

// maxCrashFrames is how many frames of the stack PROCESS_CRASHED's evidence keeps.
const maxCrashFrames = 5

// ruleProcessCrashed: the diagnostic report was written as the process died. A report
// written by process.report.writeReport() (with or without an error: trigger "API"), on a
// signal, or by getReport() is not a crash.
func ruleProcessCrashed(s *Snapshot, _ EvalContext) []Finding {
	if s.Node == nil || s.Node.Error == nil {
		return nil
	}
	e := s.Node.Error
	why, ok := crashTriggers[e.Trigger]
	if !ok {
		return nil
	}
	code := e.Code
	if code == "OOMError" || code == "FatalError" {
		code = "" // nodereport's names for what has no JavaScript error
	}
	frames := e.Stack
	if len(frames) > maxCrashFrames {
		frames = frames[:maxCrashFrames]
	}
	ev := map[string]any{"trigger": e.Trigger, "error": e.Message, "code": nil, "top_frame": nil, "stack": frames}
	if frames == nil {
		ev["stack"] = []string{}
	}
	if len(e.Stack) > maxCrashFrames {
		ev["stack_total"], ev["truncated"] = len(e.Stack), true
	}
	what := e.Message
	if code != "" {
		ev["code"] = code
		what = code + ": " + what
	}
	if len(e.Stack) > 0 {
		top := strings.TrimSpace(e.Stack[0])
		ev["top_frame"] = top
		what += " " + top
	}
	advice := "Fix the error at the top frame; handle errors where they are thrown (try/catch around await, .catch() on promises, 'error' listeners on streams and sockets); run under a supervisor that restarts the process and keeps its reports."
	if e.Trigger == "OOMError" || e.Code == "OOMError" {
		advice = "Find what the heap retains: run with --heapsnapshot-near-heap-limit=2 to get snapshots before the next crash and compare them; raise --max-old-space-size only if the working set is legitimately this large."
	} else if e.Trigger == "FatalError" || e.Trigger == "OnFatalError" {
		advice = "A fatal error is raised by Node.js or V8 itself (or a native addon): read the native stack in the report, and check for a known issue of this Node.js version or addon."
	}
	return []Finding{{
		Code:     "PROCESS_CRASHED",
		Severity: SeverityCritical,
		Summary:  fmt.Sprintf("The process crashed of %s: %s", why, what),
		Evidence: ev,
		Advice:   advice,
	}}
}
