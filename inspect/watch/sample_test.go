package watch

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/session"
	"github.com/nodeinspect/nodeinspect/internal/fakeproc"
	"github.com/nodeinspect/nodeinspect/probes"
)

// closeWaitTree builds the close-wait scenario (120 sockets in CLOSE_WAIT) in a temporary
// directory, and returns its root and target pid.
func closeWaitTree(t *testing.T) (string, int) {
	t.Helper()
	root, pid, err := fakeproc.Copy(t.TempDir(), "close-wait")
	if err != nil {
		t.Fatal(err)
	}
	return root, pid
}

// breakTable makes <root>/<pid>/net/<name> unreadable (a directory: open works, read fails
// with EISDIR, as root cannot be refused a file).
func breakTable(t *testing.T, root string, pid int, name string) {
	t.Helper()
	if err := fakeproc.Unreadable(filepath.Join(root, strconv.Itoa(pid), "net", name)); err != nil {
		t.Fatal(err)
	}
}

// TestSampleWithUnreadableSocketTable: a watch sample that cannot read the socket tables
// records close_wait and the socket states as unknown (nil: null in JSON, left out of the
// trend fits), not 0, and says so once in the sink however many samples fail.
func TestSampleWithUnreadableSocketTable(t *testing.T) {
	root, pid := closeWaitTree(t)
	c := inspect.NewCollector(probes.NewFS(root))
	sink := &session.WarningSink{}
	s, err := NewSampler(c, sink).Sample(context.Background(), pid, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.CloseWait == nil || *s.CloseWait != 120 || len(sink.Drain()) != 0 {
		t.Fatalf("readable tables: close_wait %v, warnings", s.CloseWait)
	}

	breakTable(t, root, pid, "tcp6")
	sampler := NewSampler(c, sink)
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
