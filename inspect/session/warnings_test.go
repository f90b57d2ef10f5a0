package session

import (
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// TestWarningSink: each warning once, in order, and Drain takes only what is new.
func TestWarningSink(t *testing.T) {
	var w WarningSink
	w.Add("a %d", 1)
	w.Add("b")
	w.Add("a %d", 1)
	if got := w.Drain(); strings.Join(got, "|") != "a 1|b" {
		t.Fatalf("first drain %q", got)
	}
	if got := w.Drain(); got != nil {
		t.Fatalf("second drain %q", got)
	}
	w.Add("b")
	w.Add("c")
	if got := w.Drain(); strings.Join(got, "|") != "c" {
		t.Fatalf("third drain %q", got)
	}
	var none *WarningSink
	if none.Drain() != nil {
		t.Fatal("nil sink")
	}
}

// TestHeapSessionWarnTo: once the snapshot is handed out, the collection's warnings (the
// attach cleanup's, at HeapSession.Close) go to the sink, not into the printed snapshot.
func TestHeapSessionWarnTo(t *testing.T) {
	col := &Target{Snap: &model.Snapshot{Warnings: []string{"before"}}}
	h := &HeapSession{run: &attachRun{col: col}}
	col.Warn("during %s", "collection")
	sink := &WarningSink{}
	h.WarnTo(sink)
	col.Warn("attach: could not ask the process to close the inspector it opened: %s", "refused")
	if got := strings.Join(col.Snap.Warnings, "|"); got != "before|during collection" {
		t.Errorf("snapshot warnings %q", got)
	}
	if got := sink.Drain(); len(got) != 1 || !strings.Contains(got[0], "could not ask") {
		t.Errorf("sink %q", got)
	}
}
