package inspect

import (
	"fmt"
	"math"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// growthEvidence is the evidence of a growth finding: the numbers, the rate and, when a
// limit is known, the time left until it at that rate.
// Without rates (snapshots less than ShortDiffInterval apart) it holds the numbers only.
func growthEvidence(before, after, seconds float64, rates bool, limit *float64) model.Evidence {
	ev := model.Evidence{"before": model.Number(before), "after": model.Number(after), "change": model.Number(after - before), "interval_seconds": model.Seconds(units.Round(seconds, 1))}
	if seconds > 0 && rates {
		rate := (after - before) / seconds
		ev["rate_per_second"] = model.Rate(units.Round(rate, 3), "second")
		ev["rate_per_hour"] = model.Rate(units.Round(rate*3600, 1), "hour")
		if limit != nil && rate > 0 && *limit > after {
			ev["limit"] = model.Number(*limit)
			ev["time_to_limit_seconds"] = model.Seconds(units.Round((*limit-after)/rate, 0))
		}
	}
	return ev
}

// durationWords says a number of seconds the way a person would ("about 6 min").
func durationWords(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("about %.0f min", d.Minutes())
	case d < 48*time.Hour:
		return fmt.Sprintf("about %.1f h", d.Hours())
	}
	return fmt.Sprintf("about %.0f days", d.Hours()/24)
}

// diffFindings turns the growth of a diff into findings.
func diffFindings(d *model.Diff, after *model.Snapshot, th DiffThresholds) []model.Finding {
	var out []model.Finding
	if d.FDs != nil && d.FDs.Open.Change != nil && *d.FDs.Open.Change >= float64(th.FDs) {
		var limit *float64
		if after.Limits != nil && after.Limits.OpenFilesSoft != nil {
			limit = fptr(float64(*after.Limits.OpenFilesSoft))
		}
		ev := growthEvidence(*d.FDs.Open.Before, *d.FDs.Open.After, d.IntervalSeconds, !d.ShortInterval, limit)
		ev["added"] = model.Record(d.FDs.Added)
		summary := fmt.Sprintf("Open fds grew from %.0f to %.0f (+%.0f)", *d.FDs.Open.Before, *d.FDs.Open.After, *d.FDs.Open.Change)
		if t, ok := ev["time_to_limit_seconds"].Float(); ok {
			rate, _ := ev["rate_per_second"].Float()
			summary += fmt.Sprintf(": EMFILE in %s at +%.2f fds/s", durationWords(t), rate)
		}
		out = append(out, model.Finding{Code: model.CodeFDGrowth, Severity: model.SeverityWarning, Summary: summary, Evidence: ev,
			Advice: "The added fds are listed by type and target: find the code that opens them and the path that forgets to close them."})
	}
	if d.FDs != nil && len(d.FDs.DeletedNew) > 0 {
		out = append(out, deletedGrowth(d.FDs))
	}
	if d.Sockets != nil {
		cw := d.Sockets.ByState["CLOSE_WAIT"]
		if cw.Change != nil && *cw.Change >= float64(th.CloseWait) {
			ev := growthEvidence(*cw.Before, *cw.After, d.IntervalSeconds, !d.ShortInterval, nil)
			var peers []model.PeerDelta
			for _, p := range d.Sockets.ByPeer {
				if p.State == "CLOSE_WAIT" && p.Change > 0 {
					peers = append(peers, p)
				}
			}
			ev["peers"] = model.Record(peers)
			out = append(out, model.Finding{Code: model.CodeCloseWaitGrowth, Severity: model.SeverityWarning,
				Summary:  fmt.Sprintf("CLOSE_WAIT sockets grew from %.0f to %.0f: peers close and this process does not", *cw.Before, *cw.After),
				Evidence: ev,
				Advice:   "Call socket.end()/destroy() after the peer's FIN and on every error path; see CLOSE_WAIT_LEAK."})
		}
	}
	if m := d.Memory; m != nil {
		if f, ok := memoryGrowth(model.CodeRSSGrowth, "RSS", m.RSS, th.RSSBytes, th.RSSFraction, d.IntervalSeconds, !d.ShortInterval); ok {
			f.Advice = "RSS grew: compare with the V8 heap (process.memoryUsage() in the process) to tell a JavaScript leak from Buffers or native memory."
			out = append(out, f)
		}
		if f, ok := memoryGrowth(model.CodeHeapGrowth, "V8 heap used", m.HeapUsed, th.HeapBytes, th.HeapFraction, d.IntervalSeconds, !d.ShortInterval); ok {
			f.Advice = "Take two heap snapshots and compare what is retained (objects kept in caches, listeners, closures)."
			out = append(out, f)
		}
	}
	return out
}

// memoryGrowth makes a finding when a memory delta grew by both an absolute and a relative
// amount.
func memoryGrowth(code model.Code, what string, d model.Delta, minBytes uint64, minFraction float64, seconds float64, rates bool) (model.Finding, bool) {
	if d.Change == nil || *d.Before <= 0 {
		return model.Finding{}, false
	}
	if *d.Change < float64(minBytes) || *d.Change/(*d.Before) < minFraction || math.IsNaN(*d.Change) {
		return model.Finding{}, false
	}
	ev := growthEvidence(*d.Before, *d.After, seconds, rates, nil)
	return model.Finding{Code: code, Severity: model.SeverityWarning,
		Summary:  fmt.Sprintf("%s grew by %s (%.0f%%) between the snapshots", what, units.SignedBytes(int64(*d.Change)), *d.Change / *d.Before * 100),
		Evidence: ev}, true
}

// deletedGrowth is the DELETED_FILES_HELD finding of a diff: deleted files the process
// holds now and did not hold at the first snapshot.
func deletedGrowth(fd *model.FDDiff) model.Finding {
	files := fd.DeletedNew
	ev := model.Evidence{"count": model.Count(len(files)), "bytes": model.Bytes(fd.DeletedNewBytes)}
	if len(files) > rules.MaxListed {
		ev["files_total"], ev["truncated"] = model.Count(len(files)), model.Flag(true)
		files = files[:rules.MaxListed]
	}
	ev["files"] = model.Record(files)
	return model.Finding{Code: model.CodeDeletedFilesHeld, Severity: model.SeverityWarning,
		Summary: fmt.Sprintf("%s since the first snapshot, holding %s of disk space that df counts and du cannot find",
			units.Count(len(fd.DeletedNew), "deleted file is newly held", "deleted files are newly held"), units.SignedBytes(fd.DeletedNewBytes)),
		Evidence: ev,
		Advice:   "Close these fds (a log rotated or a temp file unlinked while open keeps its space until closed): reopen log files on rotation, close streams on every path.",
	}
}
