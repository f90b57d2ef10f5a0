package diff

import (
	"fmt"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

// Compare builds the Diff of two snapshots.
func Compare(a, b *model.Snapshot, th Thresholds, now time.Time) *model.Diff {
	d := &model.Diff{Schema: model.Schema, TakenAt: now.UTC(), Findings: []model.Finding{}, Warnings: []string{}}
	d.Before, d.After = refOf(a), refOf(b)
	d.IntervalSeconds = b.TakenAt.Sub(a.TakenAt).Seconds()
	d.SameProcess = a.Process != nil && b.Process != nil && a.Process.PID == b.Process.PID && a.Process.StartTicks == b.Process.StartTicks
	if !d.SameProcess {
		d.Warnings = append(d.Warnings, fmt.Sprintf("the snapshots are of different processes (pid %d and pid %d, or one pid restarted): differences include the restart", d.Before.PID, d.After.PID))
	}
	if d.IntervalSeconds < 0 {
		d.Warnings = append(d.Warnings, "the second snapshot was taken before the first: rates are computed on the absolute interval")
		d.IntervalSeconds = -d.IntervalSeconds
	}
	d.ShortInterval = d.IntervalSeconds < ShortInterval.Seconds()
	if a.FDs != nil && b.FDs != nil {
		d.FDs = compareFDs(a.FDs, b.FDs)
	} else {
		d.Warnings = append(d.Warnings, "fds not compared: a snapshot has no fd table")
	}
	if a.Sockets != nil && b.Sockets != nil {
		d.Sockets = compareSockets(a.Sockets, b.Sockets)
	}
	if a.Children != nil && b.Children != nil {
		d.Children = compareChildren(a.Children, b.Children)
	}
	if a.Memory != nil && b.Memory != nil {
		d.Memory = &model.MemoryDiff{
			RSS: deltaU(a.Memory.RSSBytes, b.Memory.RSSBytes), PSS: deltaU(a.Memory.PSSBytes, b.Memory.PSSBytes),
			Anon: deltaU(a.Memory.AnonBytes, b.Memory.AnonBytes), HeapUsed: deltaU(heapUsed(a.Memory), heapUsed(b.Memory)),
		}
	}
	d.Findings = diffFindings(d, b, th)
	rules.SortFindings(d.Findings)
	return d
}

func refOf(s *model.Snapshot) model.SnapshotRef {
	r := model.SnapshotRef{TakenAt: s.TakenAt}
	if s.Process != nil {
		r.PID, r.Comm, r.StartTicks = s.Process.PID, s.Process.Comm, s.Process.StartTicks
	}
	return r
}

func heapUsed(m *model.Memory) *uint64 {
	if m.Heap == nil {
		return nil
	}
	return m.Heap.UsedBytes
}

func fptr(v float64) *float64 { return &v }

func deltaI(a, b int) model.Delta {
	return model.Delta{Before: fptr(float64(a)), After: fptr(float64(b)), Change: fptr(float64(b - a))}
}

func deltaU(a, b *uint64) model.Delta {
	d := model.Delta{}
	if a != nil {
		d.Before = fptr(float64(*a))
	}
	if b != nil {
		d.After = fptr(float64(*b))
	}
	if a != nil && b != nil {
		d.Change = fptr(float64(*b) - float64(*a))
	}
	return d
}
