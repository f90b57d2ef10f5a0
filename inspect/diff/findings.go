package diff

import (
	"fmt"
	"math"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/inspect/rules/growth"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// diffFindings turns the growth of a diff into findings.
func diffFindings(d *model.Diff, after *model.Snapshot, th Thresholds) []model.Finding {
	var out []model.Finding
	if d.FDs != nil && d.FDs.Open.Change != nil && *d.FDs.Open.Change >= float64(th.FDs) {
		g := growth.Between(*d.FDs.Open.Before, *d.FDs.Open.After, d.IntervalSeconds, !d.ShortInterval, fdLimitOf(after), "EMFILE")
		g.Code, g.What, g.Unit, g.Added = model.CodeFDGrowth, "Open fds", "fds", d.FDs.Added
		g.Advice = "The added fds are listed by type and target: find the code that opens them and the path that forgets to close them."
		out = append(out, growth.Finding(g))
	}
	if d.FDs != nil && len(d.FDs.DeletedNew) > 0 {
		out = append(out, deletedGrowth(d.FDs))
	}
	if d.Sockets != nil {
		cw := d.Sockets.ByState["CLOSE_WAIT"]
		if cw.Change != nil && *cw.Change >= float64(th.CloseWait) {
			var target *float64
			fdLimit := fdLimitOf(after)
			if fdLimit != nil {
				var open *float64
				if d.FDs != nil {
					open = d.FDs.Open.After
				}
				target = fptr(growth.CloseWaitTarget(*cw.After, *fdLimit, open))
			}
			g := growth.Between(*cw.Before, *cw.After, d.IntervalSeconds, !d.ShortInterval, target, "EMFILE")
			if g.Limit != nil {
				g.Limit.Value = *fdLimit // the evidence's limit is the fd limit, as watch says it
			}
			g.Code, g.What, g.Unit = model.CodeCloseWaitGrowth, "CLOSE_WAIT sockets", "sockets"
			g.Cause = "peers close and this process does not"
			for _, p := range d.Sockets.ByPeer {
				if p.State == "CLOSE_WAIT" && p.Change > 0 {
					g.Peers = append(g.Peers, p)
				}
			}
			g.Advice = "Call socket.end()/destroy() after the peer's FIN and on every error path; see CLOSE_WAIT_LEAK."
			out = append(out, growth.Finding(g))
		}
	}
	if m := d.Memory; m != nil {
		if g, ok := memoryGrowth(m.RSS, th.RSSBytes, th.RSSFraction, d); ok {
			g.Code, g.What = model.CodeRSSGrowth, "RSS"
			g.Advice = "RSS grew: compare with the V8 heap (process.memoryUsage() in the process) to tell a JavaScript leak from Buffers or native memory."
			out = append(out, growth.Finding(g))
		}
		if g, ok := memoryGrowth(m.HeapUsed, th.HeapBytes, th.HeapFraction, d); ok {
			if h := heapOf(after); h != nil {
				if limit, name := growth.HeapLimit(h.OldSpaceLimitBytes, h.LimitBytes); limit != nil {
					withLimit := growth.Between(*m.HeapUsed.Before, *m.HeapUsed.After, d.IntervalSeconds, !d.ShortInterval, limit, name)
					if withLimit.Limit != nil {
						g.Limit = withLimit.Limit
						g.Limit.Named = true
					}
				}
			}
			g.Code, g.What = model.CodeHeapGrowth, "V8 heap used"
			g.Advice = "Take two heap snapshots and compare what is retained (objects kept in caches, listeners, closures)."
			out = append(out, growth.Finding(g))
		}
	}
	return out
}

// memoryGrowth is the growth of a memory delta of d when it grew by both an absolute and a
// relative amount.
func memoryGrowth(m model.Delta, minBytes uint64, minFraction float64, d *model.Diff) (growth.Growth, bool) {
	if m.Change == nil || *m.Before <= 0 {
		return growth.Growth{}, false
	}
	if *m.Change < float64(minBytes) || *m.Change/(*m.Before) < minFraction || math.IsNaN(*m.Change) {
		return growth.Growth{}, false
	}
	g := growth.Between(*m.Before, *m.After, d.IntervalSeconds, !d.ShortInterval, nil, "")
	g.Unit = "bytes"
	return g, true
}

// deletedGrowth is the DELETED_FILES_HELD finding of a diff: deleted files the process
// holds now and did not hold at the first snapshot.
func deletedGrowth(fd *model.FDDiff) model.Finding {
	files := fd.DeletedNew
	ev := evidence.Evidence{"count": evidence.Count(len(files)), "bytes": evidence.Bytes(fd.DeletedNewBytes)}
	if len(files) > rules.MaxListed {
		ev["files_total"], ev["truncated"] = evidence.Count(len(files)), evidence.Flag(true)
		files = files[:rules.MaxListed]
	}
	ev["files"] = evidence.Record(files)
	return model.Finding{Code: model.CodeDeletedFilesHeld, Severity: model.SeverityWarning,
		Summary: fmt.Sprintf("%s since the first snapshot, holding %s of disk space that df counts and du cannot find",
			units.Count(len(fd.DeletedNew), "deleted file is newly held", "deleted files are newly held"), units.SignedBytes(fd.DeletedNewBytes)),
		Evidence: ev,
		Advice:   "Close these fds (a log rotated or a temp file unlinked while open keeps its space until closed): reopen log files on rotation, close streams on every path.",
	}
}

// fdLimitOf is the soft open-files limit of s (nil when not read).
func fdLimitOf(s *model.Snapshot) *float64 {
	if s.Limits == nil || s.Limits.OpenFilesSoft == nil {
		return nil
	}
	return fptr(float64(*s.Limits.OpenFilesSoft))
}

// heapOf is the V8 heap of s (nil when not read).
func heapOf(s *model.Snapshot) *model.Heap {
	if s.Memory == nil {
		return nil
	}
	return s.Memory.Heap
}
