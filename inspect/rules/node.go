package rules

import (
	"fmt"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/internal/units"
)

// The rules of what Node.js says about itself (--attach, or a diagnostic report). Each
// stays silent when its data is missing: no heap, no listeners, no handles, no finding.

// ruleExternalMemory: most of the resident memory is outside the V8 heap (Buffers, native
// addons, the allocator's fragmentation), so heap snapshots will not find it.
func ruleExternalMemory(s *model.Snapshot, ctx EvalContext) []model.Finding {
	if s.Memory == nil || s.Memory.RSSBytes == nil || s.Memory.Heap == nil || s.Memory.Heap.TotalBytes == nil {
		return nil
	}
	rss, total := *s.Memory.RSSBytes, *s.Memory.Heap.TotalBytes
	t := ctx.Thresholds
	if float64(rss) < t.ExternalRatio*float64(total) || rss < total+t.ExternalMinBytes {
		return nil
	}
	h := s.Memory.Heap
	ev := evidence.Evidence{"rss_bytes": evidence.Bytes(rss), "heap_total_bytes": evidence.Bytes(total), "outside_heap_bytes": evidence.Bytes(rss - total),
		"ratio": evidence.Number(units.Round(float64(rss)/float64(max(total, 1)), 1))}
	detail := ""
	if h.ExternalBytes != nil {
		ev["external_bytes"] = evidence.Bytes(*h.ExternalBytes)
		detail = fmt.Sprintf("; V8 counts %s as external (Buffers and other memory tied to JavaScript objects)", units.Bytes(*h.ExternalBytes))
	}
	if h.ArrayBuffersBytes != nil {
		ev["array_buffers_bytes"] = evidence.Bytes(*h.ArrayBuffersBytes)
	}
	return []model.Finding{{
		Code:     model.CodeExternalMemory,
		Severity: model.SeverityWarning,
		Summary: fmt.Sprintf("RSS is %s but the V8 heap only %s: %s lives outside the heap%s",
			units.Bytes(rss), units.Bytes(total), units.SignedBytes(int64(rss-total)), detail),
		Evidence: ev,
		Advice:   "Heap snapshots will not show this memory: look for Buffers kept alive (caches, streams never consumed, Buffer.allocUnsafe pools), native addons, and many threads; when external is small, suspect native code or allocator fragmentation (try MALLOC_ARENA_MAX=2).",
	}}
}

// heapPressure is what HEAP_NEAR_LIMIT compares: the old generation's used bytes against
// the point where V8 may end the process, ineffectiveGCShare of the old generation's limit
// (heap used stands in for old-generation used when the spaces are unknown: it also counts
// the young generation, so it errs towards warning early); else heap used against V8's heap
// limit (which can stay below 85% up to the crash under a small --max-old-space-size: see
// package heaplimit). basis is "old_space", "heap_used_vs_old_space" or "heap".
func heapPressure(h *model.Heap) (used, limit uint64, basis string, ok bool) {
	if h == nil {
		return 0, 0, "", false
	}
	if h.OldSpaceLimitBytes != nil && *h.OldSpaceLimitBytes > 0 {
		oomAt := uint64(float64(*h.OldSpaceLimitBytes) * IneffectiveGCShare)
		switch {
		case h.OldSpaceUsedBytes != nil:
			return *h.OldSpaceUsedBytes, oomAt, "old_space", true
		case h.UsedBytes != nil:
			return *h.UsedBytes, oomAt, "heap_used_vs_old_space", true
		}
	}
	if h.UsedBytes != nil && h.LimitBytes != nil && *h.LimitBytes > 0 {
		return *h.UsedBytes, *h.LimitBytes, "heap", true
	}
	return 0, 0, "", false
}

// heapEvidence is the evidence of HEAP_NEAR_LIMIT: what was compared and which limit.
func heapEvidence(h *model.Heap, used, limit uint64, basis string) evidence.Evidence {
	ev := evidence.Evidence{"used_bytes": evidence.Bytes(used), "limit_bytes": evidence.Bytes(limit), "used_percent": evidence.Percent(units.Round(float64(used)/float64(limit)*100, 1)),
		"compared": evidence.Text(basis), "source": evidence.Text(h.Source)}
	switch basis {
	case "old_space", "heap_used_vs_old_space":
		from := ""
		if h.OldSpaceLimitFrom != nil {
			from = *h.OldSpaceLimitFrom
		}
		ev["limit"] = evidence.Text(fmt.Sprintf("%.0f%% of the old generation's limit (%s): from there V8 ends the process when garbage collection stops freeing memory", IneffectiveGCShare*100, from))
		ev["old_space_limit_bytes"] = evidence.Bytes(*h.OldSpaceLimitBytes)
	default:
		ev["limit"] = evidence.Text("V8 heap limit (includes the young generation's reserve: the old generation's limit is unknown)")
	}
	if h.UsedBytes != nil {
		ev["heap_used_bytes"] = evidence.Bytes(*h.UsedBytes)
	}
	if h.LimitBytes != nil {
		ev["heap_limit_bytes"] = evidence.Bytes(*h.LimitBytes)
	}
	return ev
}

// ruleHeapNearLimit: V8's old generation (what runs out) is close to the point where V8
// may end the process; an OOM crash follows. The thresholds are fractions of that point,
// 80% of the old generation's limit (package heaplimit): 85% and 95% of it are 68% and 76% of
// the limit, reached while the process still runs whether V8 gives up at 80% (garbage
// collection no longer frees memory) or fills the old generation to 97-99.6% first.
func ruleHeapNearLimit(s *model.Snapshot, ctx EvalContext) []model.Finding {
	if s.Memory == nil || s.Memory.Heap == nil {
		return nil
	}
	h := s.Memory.Heap
	used, limit, basis, ok := heapPressure(h)
	if !ok {
		return nil
	}
	frac := float64(used) / float64(limit)
	t := ctx.Thresholds
	if s.Node != nil && s.Node.Error != nil && s.Node.Error.Code == "OOMError" {
		// A report written as V8 gave up: the heap reached its limit, whatever the numbers
		// read after the last failed collection (young space is empty then).
		ev := heapEvidence(h, used, limit, basis)
		ev["event"] = evidence.Text(s.Node.Error.Message)
		return []model.Finding{{
			Code:     model.CodeHeapNearLimit,
			Severity: model.SeverityCritical,
			Summary:  "The process died of a JavaScript heap out of memory",
			Evidence: ev,
			Advice:   "Find what the heap retains (run with --heapsnapshot-near-heap-limit=2 to get snapshots before the next crash, and compare them); raise --max-old-space-size only if the working set is legitimately this large.",
		}}
	}
	if frac < t.HeapWarning {
		return nil
	}
	sev := model.SeverityWarning
	if frac >= t.HeapCritical {
		sev = model.SeverityCritical
	}
	what := "The V8 heap's old generation uses"
	if basis == "heap" {
		what = "The V8 heap uses"
	}
	return []model.Finding{{
		Code:     model.CodeHeapNearLimit,
		Severity: sev,
		Summary:  heapSummary(what, used, limit, frac, basis, h),
		Evidence: heapEvidence(h, used, limit, basis),
		Advice:   "Take a heap snapshot now (`node --heapsnapshot-signal=SIGUSR2`, or DevTools) and compare two to find what grows; raise --max-old-space-size only if the working set is legitimately this large.",
	}}
}

// heapSummary words HEAP_NEAR_LIMIT.
func heapSummary(what string, used, limit uint64, frac float64, basis string, h *model.Heap) string {
	if basis == "heap" {
		return fmt.Sprintf("%s %s of its %s limit (%s): the process will crash with \"JavaScript heap out of memory\"", what, units.Bytes(used), units.Bytes(limit), percent(frac))
	}
	return fmt.Sprintf("%s %s, %s of the %s at which V8 may end it (%.0f%% of its %s limit): the process will crash with \"JavaScript heap out of memory\"",
		what, units.Bytes(used), percent(frac), units.Bytes(limit), IneffectiveGCShare*100, units.Bytes(*h.OldSpaceLimitBytes))
}

// ruleNoSIGTERM: no SIGTERM listener, so Node's default action (exit at once) drops
// in-flight requests on every deploy.
func ruleNoSIGTERM(s *model.Snapshot, _ EvalContext) []model.Finding {
	if s.Node == nil || s.Node.Listeners == nil {
		return nil
	}
	n, ok := s.Node.Listeners["SIGTERM"]
	if !ok || n > 0 {
		return nil
	}
	return []model.Finding{{
		Code:     model.CodeNoSIGTERMHandler,
		Severity: model.SeverityInfo,
		Summary:  "No SIGTERM listener: `kill`, systemd and Kubernetes stop this process mid-request",
		Evidence: evidence.Evidence{"SIGTERM": evidence.Count(0), "SIGINT": evidence.Count(s.Node.Listeners["SIGINT"])},
		Advice:   "Add process.on('SIGTERM', () => server.close(() => process.exit(0))) so in-flight requests finish; set a hard timeout in case connections stay open (server.closeAllConnections()).",
	}}
}

// ruleNoErrorHandlers: no process-level error listeners, so an unexpected error kills the
// process without a log line of the app's own.
func ruleNoErrorHandlers(s *model.Snapshot, _ EvalContext) []model.Finding {
	if s.Node == nil || s.Node.Listeners == nil {
		return nil
	}
	var missing []string
	for _, ev := range []string{"uncaughtException", "unhandledRejection"} {
		if n, ok := s.Node.Listeners[ev]; ok && n == 0 {
			missing = append(missing, ev)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []model.Finding{{
		Code:     model.CodeNoErrorHandlers,
		Severity: model.SeverityInfo,
		Summary:  fmt.Sprintf("No %s listener: an unexpected error ends the process with only Node's default stack trace", strings.Join(missing, " or ")),
		Evidence: evidence.Evidence{"missing": evidence.Texts(missing)},
		Advice:   "Add process.on('uncaughtException') and process.on('unhandledRejection') handlers that log the error with context, flush logs, and exit non-zero; do not keep running after an uncaught exception.",
	}}
}

// maxHandlesListed bounds the handles a REFERENCED_HANDLES finding lists.
const maxHandlesListed = 20

// ruleReferencedHandles: what keeps the event loop alive, so why the process does not exit.
func ruleReferencedHandles(s *model.Snapshot, _ EvalContext) []model.Finding {
	byType := map[string]int{}
	var listed []evidence.Evidence
	total := 0
	for _, h := range s.Handles {
		if !h.KeepsAlive {
			continue
		}
		total++
		byType[h.Type]++
		if len(listed) < maxHandlesListed {
			item := evidence.Evidence{"type": evidence.Text(h.Type)}
			if h.FD != nil {
				item["fd"] = evidence.Int(*h.FD)
			}
			if h.Local != "" {
				item["local"] = evidence.Text(h.Local)
			}
			if h.Remote != "" {
				item["remote"] = evidence.Text(h.Remote)
			}
			if h.Detail != "" {
				item["detail"] = evidence.Text(h.Detail)
			}
			listed = append(listed, item)
		}
	}
	var resources map[string]int
	if s.Node != nil {
		resources = s.Node.ActiveResources
	}
	if total == 0 && len(resources) == 0 {
		return nil
	}
	ev := evidence.Evidence{"count": evidence.Count(total), "by_type": evidence.CountsBy(byType), "handles": evidence.Objects(listed)}
	if resources != nil {
		ev["active_resources"] = evidence.CountsBy(resources)
	}
	what := describeCounts(byType)
	if total == 0 {
		what = describeCounts(resources)
	}
	return []model.Finding{{
		Code:     model.CodeReferencedHandles,
		Severity: model.SeverityInfo,
		Summary:  fmt.Sprintf("The event loop is kept alive by %s: the process will not exit on its own while they stay", what),
		Evidence: ev,
		Advice:   "To let it exit: close servers (server.close()), end sockets, clearInterval/clearTimeout timers, kill or disconnect children; call .unref() on handles that should not keep the process alive.",
	}}
}

// describeCounts words {"tcp": 3, "timer": 1} as "3 tcp, 1 timer", largest first.
func describeCounts(m map[string]int) string {
	keys := model.KeysByCount(m)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// IneffectiveGCShare is the share of the old generation's limit from which V8 may end the
// process when garbage collection stops freeing memory (V8's kHighHeapPercentage).
const IneffectiveGCShare = 0.8
