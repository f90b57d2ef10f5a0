package rules

import (
	"fmt"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
)

// maxCrashFrames is how many frames of the stack PROCESS_CRASHED's evidence keeps.
const maxCrashFrames = 5

// ruleProcessCrashed: the diagnostic report was written as the process died. A report
// written by process.report.writeReport() (with or without an error: trigger "API"), on a
// signal, or by getReport() is not a crash.
func ruleProcessCrashed(s *model.Snapshot, _ EvalContext) []model.Finding {
	if s.Node == nil || s.Node.Error == nil {
		return nil
	}
	e := s.Node.Error
	why, ok := e.CrashCause()
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
	if frames == nil {
		frames = []string{}
	}
	ev := evidence.Evidence{"trigger": evidence.Text(e.Trigger), "error": evidence.Text(e.Message), "code": evidence.Null(), "top_frame": evidence.Null(), "stack": evidence.Texts(frames)}
	if len(e.Stack) > maxCrashFrames {
		ev["stack_total"], ev["truncated"] = evidence.Count(len(e.Stack)), evidence.Flag(true)
	}
	what := e.Message
	if code != "" {
		ev["code"] = evidence.Text(code)
		what = code + ": " + what
	}
	if len(e.Stack) > 0 {
		top := strings.TrimSpace(e.Stack[0])
		ev["top_frame"] = evidence.Text(top)
		what += " " + top
	}
	advice := "Fix the error at the top frame; handle errors where they are thrown (try/catch around await, .catch() on promises, 'error' listeners on streams and sockets); run under a supervisor that restarts the process and keeps its reports."
	if e.Trigger == "OOMError" || e.Code == "OOMError" {
		advice = "Find what the heap retains: run with --heapsnapshot-near-heap-limit=2 to get snapshots before the next crash and compare them; raise --max-old-space-size only if the working set is legitimately this large."
	} else if e.Trigger == "FatalError" || e.Trigger == "OnFatalError" {
		advice = "A fatal error is raised by Node.js or V8 itself (or a native addon): read the native stack in the report, and check for a known issue of this Node.js version or addon."
	}
	return []model.Finding{{
		Code:     model.CodeProcessCrashed,
		Severity: model.SeverityCritical,
		Summary:  fmt.Sprintf("The process crashed of %s: %s", why, what),
		Evidence: ev,
		Advice:   advice,
	}}
}
