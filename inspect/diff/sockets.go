package diff

import (
	"sort"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

func compareSockets(a, b *model.SocketSummary) *model.SocketDiff {
	d := &model.SocketDiff{ByState: map[string]model.Delta{}, ByPeer: []model.PeerDelta{}}
	for s := range a.ByState {
		d.ByState[s] = deltaI(a.ByState[s], b.ByState[s])
	}
	for s := range b.ByState {
		d.ByState[s] = deltaI(a.ByState[s], b.ByState[s])
	}
	type key struct{ remote, state string }
	counts := map[key]*model.PeerDelta{}
	// A host can have several groups per state (inbound, and outbound per remote port):
	// the delta is per host and state, so their counts add up.
	peer := func(g model.PeerGroup) *model.PeerDelta {
		p := counts[key{g.Remote, g.State}]
		if p == nil {
			p = &model.PeerDelta{Remote: g.Remote, State: g.State}
			counts[key{g.Remote, g.State}] = p
		}
		return p
	}
	for _, g := range a.ByPeer {
		peer(g).Before += g.Count
	}
	for _, g := range b.ByPeer {
		peer(g).After += g.Count
	}
	for _, p := range counts {
		p.Change = p.After - p.Before
		if p.Change != 0 {
			d.ByPeer = append(d.ByPeer, *p)
		}
	}
	sort.Slice(d.ByPeer, func(i, j int) bool {
		x, y := d.ByPeer[i], d.ByPeer[j]
		if x.Change != y.Change {
			return x.Change > y.Change
		}
		if x.Remote != y.Remote {
			return x.Remote < y.Remote
		}
		return x.State < y.State
	})
	return d
}
