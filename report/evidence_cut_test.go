package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

// TestEvidenceCutListSaysHowManyMore: a rule that lists 20 of 1000 fds marks the cut, and
// the text counts the 980 it left out, not only the ones it hides itself.
func TestEvidenceCutListSaysHowManyMore(t *testing.T) {
	r := &renderer{}
	lines := r.evidenceLines(decoded(map[string]any{"count": 1000, "fds": seq(10, 20), "fds_total": 1000, "truncated": true,
		"groups":       []map[string]any{{"peer": "a", "count": 1}, {"peer": "b", "count": 1}, {"peer": "c", "count": 1}, {"peer": "d", "count": 1}},
		"groups_total": 300}))
	text := strings.Join(lines, "\n")
	for _, want := range []string{"fds: 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, … and 980 more", "… and 297 more", "count=1000"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	for _, unwanted := range []string{"fds_total", "truncated", "groups_total"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("%q shown in\n%s", unwanted, text)
		}
	}
	// An uncut list keeps its own "and N more".
	text = strings.Join(r.evidenceLines(decoded(map[string]any{"pids": seq(1, 12)})), "\n")
	if !strings.Contains(text, "… and 2 more") {
		t.Errorf("uncut list: %s", text)
	}
}

// TestThousandCloseWaitThroughThePipeline: a snapshot with 1000 CLOSE_WAIT sockets, judged
// by the real rules and rendered: the JSON carries fds_total 1000 and truncated, the text
// counts the 980 fds the rule left out.
func TestThousandCloseWaitThroughThePipeline(t *testing.T) {
	soft := uint64(4096)
	fds := &model.FDTable{ByType: map[string]int{}}
	fds.List = append(fds.List, model.FD{FD: 3, Type: "tcp", Socket: &model.Socket{Proto: "tcp", State: "LISTEN", Local: "0.0.0.0:8080", Remote: "0.0.0.0:0", Inode: 1}})
	for i := 0; i < 1000; i++ {
		fds.List = append(fds.List, model.FD{FD: 10 + i, Type: "tcp", Target: fmt.Sprintf("socket:[%d]", 100+i),
			Socket: &model.Socket{Proto: "tcp", State: "CLOSE_WAIT", Local: fmt.Sprintf("10.0.0.1:%d", 33000+i), Remote: "10.0.0.9:5432", RxQueue: 1, Inode: uint64(100 + i)}})
	}
	fds.Open = len(fds.List)
	fds.ByType["tcp"] = fds.Open
	snap := &model.Snapshot{Schema: model.Schema, Process: &model.Process{PID: 7, IsNode: true, Cmdline: []string{"node", "gw.js"}},
		Limits: &model.Limits{OpenFilesSoft: &soft}, FDs: fds, Findings: []model.Finding{}, Warnings: []string{}}
	snap.Findings = rules.Evaluate(snap, rules.EvalContext{Thresholds: rules.DefaultThresholds()})

	var js bytes.Buffer
	if err := Render(&js, snap, Options{Format: FormatJSON, View: ViewReport}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Findings []struct {
			Code     string         `json:"code"`
			Evidence map[string]any `json:"evidence"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	for _, f := range doc.Findings {
		if f.Code == "CLOSE_WAIT_LEAK" {
			ev = f.Evidence
		}
	}
	if ev == nil || ev["fds_total"] != float64(1000) || ev["truncated"] != true || len(ev["fds"].([]any)) != 20 {
		t.Fatalf("CLOSE_WAIT_LEAK evidence %v", ev)
	}
	g := ev["groups"].([]any)[0].(map[string]any)
	if g["direction"] != "outbound" || g["remote_port"] != float64(5432) || g["count"] != float64(1000) {
		t.Errorf("group %v", g)
	}

	var text bytes.Buffer
	if err := Render(&text, snap, Options{Format: FormatPlain, View: ViewReport}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "and 980 more") || strings.Contains(text.String(), "and 10 more") {
		t.Errorf("text:\n%s", text.String())
	}
}
