package diff

import (
	"sort"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

func compareChildren(a, b []*model.Child) *model.ChildrenDiff {
	flat := func(list []*model.Child) map[int]*model.Child {
		m := map[int]*model.Child{}
		var walk func([]*model.Child)
		walk = func(cs []*model.Child) {
			for _, c := range cs {
				m[c.PID] = c
				walk(c.Children)
			}
		}
		walk(list)
		return m
	}
	fa, fb := flat(a), flat(b)
	d := &model.ChildrenDiff{Appeared: []model.ChildRef{}, Gone: []model.ChildRef{}}
	for pid, c := range fb {
		if _, ok := fa[pid]; !ok {
			d.Appeared = append(d.Appeared, model.ChildRef{PID: pid, Comm: c.Comm, State: c.State, Zombie: c.Zombie})
		}
	}
	for pid, c := range fa {
		if _, ok := fb[pid]; !ok {
			d.Gone = append(d.Gone, model.ChildRef{PID: pid, Comm: c.Comm, State: c.State, Zombie: c.Zombie})
		}
	}
	sort.Slice(d.Appeared, func(i, j int) bool { return d.Appeared[i].PID < d.Appeared[j].PID })
	sort.Slice(d.Gone, func(i, j int) bool { return d.Gone[i].PID < d.Gone[j].PID })
	return d
}
