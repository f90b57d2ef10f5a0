package inspect

import (
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/internal/snapfix"
)

// Fixtures shared by this package's tests; the rules package's tests keep their own copies
// (test files cannot be shared across packages).

func u64(v uint64) *uint64 { return &v }

// The shared snapshot fixtures (internal/snapfix).
var (
	fdSnapshot = snapfix.FDSnapshot
	tcp        = snapfix.TCP
	codes      = snapfix.Codes
)

func heapSnapshot(rss, total, used, limit uint64) *model.Snapshot {
	return &model.Snapshot{
		Process: &model.Process{PID: 42, IsNode: true},
		Memory: &model.Memory{RSSBytes: u64(rss), Heap: &model.Heap{
			UsedBytes: u64(used), TotalBytes: u64(total), LimitBytes: u64(limit), ExternalBytes: u64(rss / 2), Source: "inspector",
		}},
	}
}

// severities maps each finding's code to its severity.
func severities(fs []model.Finding) map[string]model.Severity {
	out := map[string]model.Severity{}
	for _, f := range fs {
		out[string(f.Code)] = f.Severity
	}
	return out
}

// onlyRule is what the rules decide about one code: Evaluate's findings with that code.
func onlyRule(code model.Code, s *model.Snapshot, ctx rules.EvalContext) []model.Finding {
	var out []model.Finding
	for _, f := range rules.Evaluate(s, ctx) {
		if f.Code == code {
			out = append(out, f)
		}
	}
	return out
}

// inspectorFindings are the INSPECTOR_EXPOSED and INSPECTOR_OPEN findings of s.
func inspectorFindings(s *model.Snapshot, ctx rules.EvalContext) []model.Finding {
	return append(onlyRule(model.CodeInspectorExposed, s, ctx), onlyRule(model.CodeInspectorOpen, s, ctx)...)
}
