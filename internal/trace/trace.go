// Package trace prints timing lines on stderr when NODEINSPECT_TRACE=1, for measuring where
// an attach or a dump spends its time. It depends on nothing of ours.
package trace

import (
	"fmt"
	"os"
	"time"
)

// traceStart is when the process started, for trace lines.
var traceStart = time.Now()

// traceOn is set by NODEINSPECT_TRACE=1: the attach steps print their timing on stderr
// (for measuring where an attach spends its time).
var traceOn = os.Getenv("NODEINSPECT_TRACE") == "1"

// Printf prints one timing line on stderr when NODEINSPECT_TRACE=1.
func Printf(format string, args ...any) {
	if traceOn {
		fmt.Fprintf(os.Stderr, "trace %6.1fms "+format+"\n", append([]any{float64(time.Since(traceStart).Microseconds()) / 1000}, args...)...)
	}
}
