package inspect

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
	"github.com/nodeinspect/nodeinspect/probes"
)

// closeWaitTree builds the close-wait scenario (120 sockets in CLOSE_WAIT) in a temporary
// directory, and returns its root and target pid.
func closeWaitTree(t *testing.T) (string, int) {
	t.Helper()
	tree, err := fakeproc.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range fakeproc.Scenarios {
		if s.Name == "close-wait" {
			if err := s.Build(tree); err != nil {
				t.Fatal(err)
			}
			return tree.Root, s.Target
		}
	}
	t.Fatal("no close-wait scenario")
	return "", 0
}

// breakTable makes <root>/<pid>/net/<name> unreadable (a directory: open works, read fails
// with EISDIR, as root cannot be refused a file).
func breakTable(t *testing.T, root string, pid int, name string) {
	t.Helper()
	path := filepath.Join(root, strconv.Itoa(pid), "net", name)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestSampleWithUnreadableSocketTable: a watch sample that cannot read the socket tables
// records close_wait and the socket states as unknown (nil: null in JSON, left out of the
// trend fits), not 0, and says so once in the sink however many samples fail.
func TestSampleWithUnreadableSocketTable(t *testing.T) {
	root, pid := closeWaitTree(t)
	c := NewCollector(probes.NewFS(root))
	sink := &WarningSink{}
	s, err := c.NewSampler(sink).Sample(context.Background(), pid, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.CloseWait == nil || *s.CloseWait != 120 || len(sink.Drain()) != 0 {
		t.Fatalf("readable tables: close_wait %v, warnings", s.CloseWait)
	}

	breakTable(t, root, pid, "tcp6")
	sampler := c.NewSampler(sink)
	var samples []*model.Sample
	for seq := range 3 {
		s, err := sampler.Sample(context.Background(), pid, seq, 0)
		if err != nil {
			t.Fatal(err)
		}
		if s.CloseWait != nil || s.SocketsBy != nil {
			t.Fatalf("sample %d: close_wait %v, sockets %v: want unknown", seq, s.CloseWait, s.SocketsBy)
		}
		if s.FDsOpen == nil || *s.FDsOpen != 129 {
			t.Fatalf("sample %d: fds %v: the fd count does not need the tables", seq, s.FDsOpen)
		}
		if _, ok := s.Value("close_wait"); ok {
			t.Fatalf("sample %d: an unknown close_wait has a value for the fits", seq)
		}
		samples = append(samples, s)
	}
	if got := seriesOf(samples, "close_wait"); len(got.Points) != 0 {
		t.Errorf("close_wait series of unknowns: %+v", got.Points)
	}
	w := sink.Drain()
	if len(w) != 1 || !strings.Contains(w[0], "net/tcp6") || !strings.Contains(w[0], "close_wait") || !strings.Contains(w[0], "unknown") {
		t.Fatalf("warnings %q: want one naming the table and what is unknown", w)
	}
}

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
	col := &collection{snap: &model.Snapshot{Warnings: []string{"before"}}}
	h := &HeapSession{run: &attachRun{col: col}}
	col.warn("during %s", "collection")
	sink := &WarningSink{}
	h.WarnTo(sink)
	col.warn("attach: could not ask the process to close the inspector it opened: %s", "refused")
	if got := strings.Join(col.snap.Warnings, "|"); got != "before|during collection" {
		t.Errorf("snapshot warnings %q", got)
	}
	if got := sink.Drain(); len(got) != 1 || !strings.Contains(got[0], "could not ask") {
		t.Errorf("sink %q", got)
	}
}
