package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nodeinspect/nodeinspect/internal/units"
)

// notAvailable is how every human format shows a value that could not be measured (a nil
// in the model): never 0, which would be a lie.
const notAvailable = "n/a"

// cellBytes is formatBytes without the space, for table cells: in plain output a cell must
// be one whitespace-free word so awk's $N stays the same column.
func cellBytes(n uint64) string { return strings.Replace(units.Bytes(n), " ", "", 1) }

// optBytes renders a size that may not have been measured.
func optBytes(p *uint64) string {
	if p == nil {
		return notAvailable
	}
	return units.Bytes(*p)
}

// optCellBytes is optBytes for a table cell.
func optCellBytes(p *uint64) string {
	if p == nil {
		return notAvailable
	}
	return cellBytes(*p)
}

// formatPercent renders a percentage (already ×100) with one decimal: "95.7%".
func formatPercent(p float64) string {
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// ratioPercent renders part/whole as a percentage, or "" when whole is 0.
func ratioPercent(part, whole uint64) string {
	if whole == 0 {
		return ""
	}
	return formatPercent(float64(part) / float64(whole) * 100)
}

// formatDuration renders a duration for people, to two units at most: "3d 4h", "2h 5m",
// "12m 30s", "42s", "850ms".
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	if d < 10*time.Second && d%time.Second != 0 {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	s := int64(d / time.Second)
	days, s := s/86400, s%86400
	hours, s := s/3600, s%3600
	mins, secs := s/60, s%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	case mins > 0:
		return fmt.Sprintf("%dm %ds", mins, secs)
	}
	return fmt.Sprintf("%ds", secs)
}

// msDuration converts milliseconds to a Duration, saturating instead of overflowing.
func msDuration(ms int64) time.Duration {
	const maxMS = int64(1<<63-1) / int64(time.Millisecond)
	if ms > maxMS {
		ms = maxMS
	}
	if ms < -maxMS {
		ms = -maxMS
	}
	return time.Duration(ms) * time.Millisecond
}

// cellDuration is formatDuration without spaces, for table cells ("3d4h").
func cellDuration(d time.Duration) string { return strings.ReplaceAll(formatDuration(d), " ", "") }

// uptime returns how long the process had run when the snapshot was taken, or false when
// its start time is unknown.
func uptime(started *time.Time, takenAt time.Time) (time.Duration, bool) {
	if started == nil || started.IsZero() || takenAt.IsZero() {
		return 0, false
	}
	return takenAt.Sub(*started), true
}

// compressPorts renders a list of ports compactly: consecutive runs become "a-b (n)", so
// 100 ephemeral ports read "40000-40099 (100)". At most maxRuns runs are listed, then
// "… and N more" (N counting ports); maxRuns ≤ 0 lists all. The input need not be sorted.
func compressPorts(ports []int, maxRuns int, ellipsis string) string {
	if len(ports) == 0 {
		return ""
	}
	sorted := append([]int(nil), ports...)
	sort.Ints(sorted)
	type run struct{ from, to int }
	var runs []run
	for i, p := range sorted {
		if i > 0 && p == sorted[i-1] {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1].to+1 == p {
			runs[n-1].to = p
			continue
		}
		runs = append(runs, run{p, p})
	}
	var parts []string
	rest := 0
	for i, r := range runs {
		if maxRuns > 0 && i >= maxRuns {
			rest += r.to - r.from + 1
			continue
		}
		if r.from == r.to {
			parts = append(parts, strconv.Itoa(r.from))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d (%d)", r.from, r.to, r.to-r.from+1))
		}
	}
	out := strings.Join(parts, ", ")
	if rest > 0 {
		out += fmt.Sprintf(", %s and %d more", ellipsis, rest)
	}
	return out
}

// stateName spells out the one-letter process states of proc(5).
func stateName(state string) string {
	switch state {
	case "R":
		return "running"
	case "S":
		return "sleeping"
	case "D":
		return "disk sleep"
	case "Z":
		return "zombie"
	case "T":
		return "stopped"
	case "t":
		return "tracing stop"
	case "X", "x":
		return "dead"
	case "I":
		return "idle"
	case "P":
		return "parked"
	case "K":
		return "wakekill"
	case "W":
		return "waking"
	}
	return ""
}
