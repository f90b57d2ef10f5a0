package rules

import (
	"fmt"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

func crashSnapshot(trigger, message, code string, stack []string) *model.Snapshot {
	return &model.Snapshot{Source: "report", Process: &model.Process{PID: 7, IsNode: true},
		Node: &model.NodeInfo{Error: &model.NodeError{Message: message, Code: code, Stack: stack, Trigger: trigger}}}
}

func TestProcessCrashed(t *testing.T) {
	frames := []string{"at Timeout._onTimeout (/srv/app/crash.js:12:19)", "at listOnTimeout (node:internal/timers:573:17)"}
	for _, c := range []struct {
		name                    string
		s                       *model.Snapshot
		want                    bool
		code, top, errorMessage any
	}{
		{"uncaught exception", crashSnapshot("Exception", "Error: payment service returned garbage", "E_GARBAGE", frames), true,
			"E_GARBAGE", frames[0], "Error: payment service returned garbage"},
		{"uncaught exception without a code", crashSnapshot("Exception", "TypeError: x is not a function", "", frames), true,
			nil, frames[0], "TypeError: x is not a function"},
		{"out of memory", crashSnapshot("OOMError", "Allocation failed - JavaScript heap out of memory", "OOMError", nil), true,
			nil, nil, "Allocation failed - JavaScript heap out of memory"},
		{"fatal error", crashSnapshot("FatalError", "Check failed", "FatalError", nil), true, nil, nil, "Check failed"},
		{"oldest reports' fatal error", crashSnapshot("OnFatalError", "Check failed", "FatalError", nil), true, nil, nil, "Check failed"},
		// writeReport(err) from a catch block: the process goes on.
		{"writeReport with an error", crashSnapshot("API", "Error: handled", "", frames), false, nil, nil, nil},
		{"signal", crashSnapshot("Signal", "SIGUSR2", "", nil), false, nil, nil, nil},
		{"no error", &model.Snapshot{Node: &model.NodeInfo{}}, false, nil, nil, nil},
		{"no node", &model.Snapshot{}, false, nil, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ruleProcessCrashed(c.s, EvalContext{})
			if (len(got) == 1) != c.want {
				t.Fatalf("findings %s", codes(got))
			}
			if !c.want {
				return
			}
			f := got[0]
			if f.Code != "PROCESS_CRASHED" || f.Severity != model.SeverityCritical {
				t.Fatalf("%s %s", f.Code, f.Severity)
			}
			ev := f.Evidence
			if fmt.Sprint(ev["code"]) != fmt.Sprint(c.code) || fmt.Sprint(ev["top_frame"]) != fmt.Sprint(c.top) || textOf(ev["error"]) != c.errorMessage || textOf(ev["trigger"]) != c.s.Node.Error.Trigger {
				t.Errorf("evidence %v", ev)
			}
		})
	}
	// A deep stack is cut, and says so.
	var deep []string
	for i := 0; i < 12; i++ {
		deep = append(deep, fmt.Sprintf("at f%d (/srv/app/x.js:%d:1)", i, i))
	}
	ev := ruleProcessCrashed(crashSnapshot("Exception", "Error: deep", "", deep), EvalContext{})[0].Evidence
	if len(texts(ev["stack"])) != maxCrashFrames || intOf(ev["stack_total"]) != 12 || !flag(ev["truncated"]) {
		t.Errorf("deep stack evidence %v", ev)
	}
}
