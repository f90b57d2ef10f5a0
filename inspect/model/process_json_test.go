package model

import (
	"encoding/json"
	"strings"
	"testing"
)

// A report holds no ppid, pgid, sid, uid, user, state, start tick or thread count: null,
// not 0; a live process keeps its numbers, zero included.
func TestProcessJSONNullsWhatAReportCannotHold(t *testing.T) {
	fromReport, err := json.Marshal(&Process{PID: 7, Comm: "node", Cmdline: []string{"node"}, UID: -1, IsNode: true, NodeBy: "report"})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(fromReport, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ppid", "pgid", "sid", "uid", "user", "state", "start_ticks", "threads"} {
		if v, ok := got[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", k, v, ok)
		}
	}
	if got["pid"] != float64(7) || got["comm"] != "node" || got["is_node"] != true {
		t.Errorf("known keys lost: %s", fromReport)
	}
	live, err := json.Marshal(&Process{PID: 1, PPID: 0, State: "S", IsNode: true, NodeBy: "exe"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(live), `"ppid":0`) || !strings.Contains(string(live), `"state":"S"`) {
		t.Errorf("a live process lost its numbers: %s", live)
	}
}
