// Package units formats quantities for people: the one byte formatter shared by the
// renderers (report) and the sentences the rules write into a finding's summary (inspect),
// so one fact reads the same in a summary and in the evidence beside it. It depends on
// nothing of ours.
package units

import (
	"math"
	"strconv"
)

// Bytes renders a size in bytes with binary units and three significant digits:
// "512 B", "1.95 GiB", "80.0 MiB", "310 MiB" (enough to tell 2000 MiB from a 2048 MiB limit).
func Bytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	// Round first, so 1023.9 MiB reads "1.00 GiB" and not "1024 MiB".
	if math.Round(v) >= 1000 && exp < 5 {
		v /= unit
		exp++
	}
	suffix := " " + string("KMGTPE"[exp]) + "iB"
	switch {
	case v < 9.995:
		return strconv.FormatFloat(v, 'f', 2, 64) + suffix
	case v < 99.95:
		return strconv.FormatFloat(v, 'f', 1, 64) + suffix
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + suffix
}

// SignedBytes is Bytes of a byte count kept signed (int64); negative values, which no
// kernel file produces, are shown as they are ("-5 B").
func SignedBytes(n int64) string {
	if n < 0 {
		return strconv.FormatInt(n, 10) + " B"
	}
	return Bytes(uint64(n))
}

// WholeMiB renders a size as whole MiB, rounded down ("512 MiB"): the headroom gate's
// sentences (heap --snapshot, arm), whose "available N MiB" scripts and the integration
// tests read.
func WholeMiB(n uint64) string { return strconv.FormatUint(n>>20, 10) + " MiB" }

// Count is a count with its noun, singular for one: "1 socket", "3 sockets".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Round rounds v half up to the given number of decimals, for evidence that should not
// carry float noise ("rate_per_second": 0.0333).
func Round(v float64, decimals int) float64 {
	p := 1.0
	for i := 0; i < decimals; i++ {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}
