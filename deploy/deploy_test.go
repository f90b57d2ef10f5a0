// Package deploy holds what ships with `nodeinspect serve`: alert rules, a Grafana
// dashboard, a Kubernetes DaemonSet and a systemd unit. Its tests check them with
// Prometheus's promtool.
package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/internal/fleet"
)

// promtool returns promtool's path. Without it the test is skipped on a developer's
// machine, and fails in CI (CI set), where .ci/run installs Debian's prometheus package.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not found: CI must have it (.ci/run installs Debian's prometheus package)")
		}
		t.Skip("promtool not found (apt-get install prometheus); CI fails here instead of skipping")
	}
	return p
}

func runTool(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(promtool(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestAlertRulesCheck(t *testing.T) {
	out := runTool(t, "check", "rules", "alerts.yml")
	if !strings.Contains(out, "SUCCESS: 8 rules found") {
		t.Fatalf("promtool check rules: %s", out)
	}
}

func TestAlertRulesUnitTests(t *testing.T) {
	runTool(t, "test", "rules", "alerts_test.yml")
}

// metricName finds the metric names an expression uses (the exporter's families).
var metricName = regexp.MustCompile(`\b(process_[a-z_]+|nodeinspect_[a-z_]+)\b`)

// TestShippedQueriesUseExportedNames catches a rule or panel that names a metric the
// exporter does not have (a rename on one side only).
func TestShippedQueriesUseExportedNames(t *testing.T) {
	known := map[string]bool{}
	for _, f := range fleet.Families {
		known[f.Name] = true
	}
	for _, file := range []string{"alerts.yml", "grafana-dashboard.json"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metricName.FindAllString(string(data), -1) {
			if !known[m] {
				t.Errorf("%s uses %s, which the exporter does not export", file, m)
			}
		}
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	data, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	exprs := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			if tg.Expr != "" {
				exprs++
			}
		}
	}
	if dash.Title == "" || exprs < 8 {
		t.Fatalf("dashboard %q has %d queries", dash.Title, exprs)
	}
}
