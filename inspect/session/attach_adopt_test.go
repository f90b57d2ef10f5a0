package session

import (
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/closer"
	"github.com/nodeinspect/nodeinspect/probes"
)

func TestRecordedOpen(t *testing.T) {
	listening := []probes.Socket{
		{Local: "127.0.0.1:8080", LocalPort: 8080, Inode: 10}, // the app's, before the signal
		{Local: "127.0.0.1:9229", LocalPort: 9229, Inode: 20}, // opened by the signal
	}
	cases := []struct {
		name string
		rec  closer.State
		addr string
		want bool
	}{
		{"seen open by the earlier run", closer.State{Inode: 20, Inspector: "127.0.0.1:9229", Known: []uint64{10}}, "127.0.0.1:9229", true},
		{"seen open elsewhere", closer.State{Inode: 21, Inspector: "127.0.0.1:9230", Known: []uint64{10}}, "127.0.0.1:9229", false},
		{"never seen: not listening before the signal", closer.State{Known: []uint64{10}}, "127.0.0.1:9229", true},
		{"never seen: listening before the signal", closer.State{Known: []uint64{10, 20}}, "127.0.0.1:9229", false},
		{"never seen: no such listener", closer.State{Known: []uint64{10}}, "127.0.0.1:9999", false},
	}
	for _, c := range cases {
		if got := recordedOpen(&c.rec, c.addr, listening); got != c.want {
			t.Errorf("%s: recordedOpen = %v, want %v", c.name, got, c.want)
		}
	}
}
