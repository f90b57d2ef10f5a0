package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// What Node.js said about itself (--attach, or a diagnostic report) and what the attach did.

// nodeLine is "v20.20.2; listeners SIGTERM 0, SIGINT 1, uncaughtException 0,
// unhandledRejection 0; loop kept alive by 2 tcp, 1 timer".
func nodeLine(s *model.Snapshot) string {
	n := s.Node
	var parts []string
	if n.Version != "" {
		parts = append(parts, safe(n.Version))
	}
	if n.Listeners != nil {
		var l []string
		for _, k := range []string{"SIGTERM", "SIGINT", "uncaughtException", "unhandledRejection"} {
			if v, ok := n.Listeners[k]; ok {
				l = append(l, k+" "+strconv.Itoa(v))
			}
		}
		parts = append(parts, "listeners "+strings.Join(l, ", "))
	}
	alive := map[string]int{}
	for _, h := range s.Handles {
		if h.KeepsAlive {
			alive[safe(h.Type)]++
		}
	}
	switch {
	case len(alive) > 0:
		parts = append(parts, "loop kept alive by "+spanText(joinCounts(alive, countsByValue(alive), nil)))
	case s.Handles != nil:
		parts = append(parts, "no handle keeps the loop alive")
	}
	if len(n.ActiveResources) > 0 {
		res := map[string]int{}
		for k, v := range n.ActiveResources {
			res[safe(k)] = v
		}
		parts = append(parts, "active resources "+spanText(joinCounts(res, countsByValue(res), nil)))
	}
	if len(parts) == 0 {
		return notAvailable
	}
	return strings.Join(parts, "; ")
}

// attachLine says what --attach did: "ok through 127.0.0.1:9229 (opened with SIGUSR1 and
// closed again) in 28 ms".
func attachLine(a *model.Attach) (string, style) {
	var b strings.Builder
	b.WriteString(safe(a.Status))
	if a.Inspector != "" {
		b.WriteString(" through " + safe(a.Inspector))
	}
	switch {
	case a.AlreadyOpen:
		b.WriteString(" (already open; no signal sent)")
	case a.SentSignal && a.Closed != nil && *a.Closed:
		b.WriteString(" (opened with SIGUSR1 and closed again)")
	case a.SentSignal:
		b.WriteString(" (opened with SIGUSR1; STILL OPEN)")
	case !strings.Contains(a.Reason, "nothing was sent"):
		b.WriteString(" (nothing sent)")
	}
	fmt.Fprintf(&b, " in %s", formatDuration(msDuration(a.ElapsedMS)))
	if a.Reason != "" {
		b.WriteString(": " + safe(a.Reason))
	}
	st := styleNone
	if a.Status != "ok" {
		st = styleWarning
	}
	if a.LeftOpen != "" {
		b.WriteString("; " + safe(a.LeftOpen))
		st = styleCritical
	}
	return b.String(), st
}

func (r *renderer) reportNode(s *model.Snapshot) {
	if s.Node != nil {
		r.field("node", sp(nodeLine(s)))
		if s.Node.Error != nil {
			r.more(span{errorLabel(s.Node.Error) + ": " + safe(errorText(s.Node.Error)), styleWarning})
		}
	}
	if s.Attach != nil {
		text, st := attachLine(s.Attach)
		r.field("attach", span{text, st})
	}
}

// errorText is "ERR_X: message" of the error a report was written for.
func errorText(e *model.NodeError) string {
	if e.Code != "" {
		return e.Code + ": " + e.Message
	}
	return e.Message
}

// handleCell is the fd table's HANDLE column: "tcp ref" keeps the loop alive, "tcp idle"
// is referenced but not active, "tcp unref" does not hold the loop; the socket's owner
// follows when known ("tcp ref: accepted by http.Server on :3000, POST /upload").
func handleCell(h *model.FDHandle, o *model.SocketOwner) cell {
	owner := ""
	if o != nil {
		if s := o.String(); s != "" {
			owner = ": " + safe(s)
		}
	}
	if h == nil {
		if owner == "" {
			return cell{}
		}
		return txt(strings.TrimPrefix(owner, ": "))
	}
	switch {
	case h.KeepsAlive:
		return styled(safe(h.Type)+" ref"+owner, styleBold)
	case h.Referenced:
		return txt(safe(h.Type) + " idle" + owner)
	}
	return txt(safe(h.Type) + " unref" + owner)
}

// errorLabel names the error of a report: "crashed with" when the report was written as
// the process died, "report written for" when the program wrote it for an error it caught.
func errorLabel(e *model.NodeError) string {
	if e.Crashed() {
		return "crashed with"
	}
	return "report written for"
}
