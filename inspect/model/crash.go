package model

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

// CrashCause is the crash the report's trigger names in words ("an uncaught exception");
// false when the report was not written as the process died.
func (e *NodeError) CrashCause() (string, bool) {
	if e == nil {
		return "", false
	}
	why, ok := crashTriggers[e.Trigger]
	return why, ok
}
