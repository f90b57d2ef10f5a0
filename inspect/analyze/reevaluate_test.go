package analyze

import (
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

// TestReevaluateKeepsWindowFindings: a saved snapshot re-judged (analyze, diff) keeps the
// findings only a live collection can make: STALLED_SOCKETS and an inspector on a random
// port found through epoll.
func TestReevaluateKeepsWindowFindings(t *testing.T) {
	s := fdSnapshot(1024, 0, tcp(9, "LISTEN", "0.0.0.0:40123", "0.0.0.0:0", 0, 1))
	s.Process.Cmdline = []string{"node", "--inspect=0.0.0.0:0", "app.js"}
	s.Findings = []model.Finding{
		{Code: "STALLED_SOCKETS", Severity: model.SeverityWarning, Evidence: evidence.Evidence{"count": evidence.Count(7)}},
		{Code: "INSPECTOR_EXPOSED", Severity: model.SeverityCritical, Evidence: evidence.Evidence{"port": evidence.Int(40123), "detected_by": evidence.Text("epoll")}},
	}
	Reevaluate(s, rules.DefaultThresholds())
	if got := codes(s.Findings); got != "INSPECTOR_EXPOSED:critical,STALLED_SOCKETS:warning" {
		t.Errorf("findings %s", got)
	}
}
