// Package heaplimit finds the limit that runs out when Node.js dies of "JavaScript heap
// out of memory" (the old generation's, from --max-old-space-size in the arguments or
// NODE_OPTIONS, or V8's heap limit less its young-generation reserve) and how much of it
// is used, for the collector (--attach) and for analyze (a Node report).
package heaplimit

import (
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// What runs out when Node.js dies of "JavaScript heap out of memory" is V8's old
// generation, not the heap limit V8 reports. heap_size_limit (v8.getHeapStatistics(), a
// report's javascriptHeap.memoryLimit) is V8's MaxReserved(): the old generation's limit
// plus a reserve for the young generation, 3 × the largest semi-space (two semi-spaces and
// the new large-object space). Measured with Node.js v20.20.2 on a 24 GiB host (a leak of
// small objects, stats written synchronously every 20 ms until the crash):
//
//	--max-old-space-size   heap_size_limit   old generation used at the last sample
//	128                    176 MiB           127.5 MiB (99.6%; heap used 128.3 MiB = 72.9% of the limit)
//	256                    304 MiB           254.5 MiB (99.4%; heap used 84.0%)
//	512                    560 MiB           509.9 MiB (99.6%; heap used 91.3%)
//	(default)              4144 MiB          3984.6 MiB of 4096 (97.3%; heap used 96.2%)
//
// These runs kept garbage collection effective to the end. V8 also gives up earlier: from
// 80% of the old generation's limit on, four mark-compacts in a row that leave the program
// less than 40% of the time end the process ("Ineffective mark-compacts near heap limit",
// Heap::IsIneffectiveMarkCompact: kHighHeapPercentage 0.8, kLowMutatorUtilization 0.4).
// Measured: 77 MiB retained at start and 5 MiB/s more under --max-old-space-size=128 died
// at 104 MiB of old generation (81%), a mark-compact every ~100 ms. So the crash can come at
// any point from 80% of the old generation's limit: HEAP_NEAR_LIMIT measures against that
// point (ineffectiveGCShare), and HEAP_GROWTH's time to OOM runs to it.
//
// So the old generation's limit is exactly --max-old-space-size (heap_size_limit minus a
// 48 MiB reserve, 3 × the 16 MiB semi-space V8 picks for a host of this size, whatever
// --max-old-space-size says), and the old generation's used size reaches 97-99.6% of it
// before V8 gives up. Against heap_size_limit the share never reached 85% at 128 or 256
// MiB: HEAP_NEAR_LIMIT could not fire. Against the old generation's limit, 85% came 2.3 s
// and 95% 0.8 s before the last sample ahead of the abort at 128 MiB (leaking 20 MiB/s),
// 2.0 s and 1.4 s at 256 MiB (40 MiB/s), 4.1 s and 1.0 s at 512 MiB (40 MiB/s).

// oldGenerationSpaces are the V8 heap spaces that make up the old generation, whose size
// V8 holds against --max-old-space-size (Heap::OldGenerationSizeOfObjects: old, code,
// map (V8 before 11), large-object, code large-object, and the shared spaces of V8 11+).
// The new space, the new large-object space and the read-only space are not in it.
var oldGenerationSpaces = map[string]bool{
	"old_space":                  true,
	"code_space":                 true,
	"map_space":                  true,
	"large_object_space":         true,
	"code_large_object_space":    true,
	"shared_space":               true,
	"shared_large_object_space":  true,
	"trusted_space":              true,
	"trusted_large_object_space": true,
}

// OldSpaceUsed sums the used bytes of the old generation's spaces, given each space's
// used bytes by V8's name; nil when old_space itself is not among them.
func OldSpaceUsed(usedBySpace map[string]uint64) *uint64 {
	if _, ok := usedBySpace["old_space"]; !ok {
		return nil
	}
	var sum uint64
	for name, used := range usedBySpace {
		if oldGenerationSpaces[name] {
			sum += used
		}
	}
	return &sum
}

// The ways the old generation's limit is known, for Heap.OldSpaceLimitFrom and the
// evidence of HEAP_NEAR_LIMIT.
const (
	LimitFromFlag      = "--max-old-space-size"
	LimitFromSemiSpace = "heap limit minus 3 × --max-semi-space-size"
	LimitFromEstimate  = "heap limit minus V8's young-generation reserve (estimated)"
)

// youngReserveMax is the largest young-generation reserve of a 64-bit Node.js without
// pointer compression: 3 × a 16 MiB semi-space (V8's kMaxSemiSpaceSize, 8 MiB ×
// kPointerMultiplier 2); measured: heap_size_limit − --max-old-space-size = 48 MiB.
const youngReserveMax = 48 << 20

// OldSpaceLimit is the old generation's limit of a process whose V8 heap limit is
// heapLimit, started with the node options args (process.execArgv, or the options before
// the script) and NODE_OPTIONS nodeOptions; from says how it was found. In order:
//
//   - --max-old-space-size=N (the last one wins, the command line over NODE_OPTIONS): N MiB,
//     when it is below the heap limit (V8 takes it as the old generation's size in MiB).
//   - --max-semi-space-size=S: heapLimit − 3 × S MiB (V8's MaxReserved).
//   - Otherwise V8 split the limit itself, giving the young generation 3 × clamp(old/128, 1,
//     16) MiB (old/256 at or below 256 MiB; V8 11's YoungGenerationSizeFromOldGenerationSize
//     for 64-bit): the reserve is estimated as min(48 MiB, 3/131 × heapLimit), within 1.2%
//     of V8's and never more (so the limit errs low and the warning early).
//
// It returns 0 when heapLimit is 0.
func OldSpaceLimit(heapLimit uint64, args []string, nodeOptions string) (limit uint64, from string) {
	if heapLimit == 0 {
		return 0, ""
	}
	all := append(strings.Fields(nodeOptions), args...)
	if mib, ok := V8SizeFlag(all, "max-old-space-size"); ok && mib > 0 && mib<<20 < heapLimit {
		return mib << 20, LimitFromFlag
	}
	if mib, ok := V8SizeFlag(all, "max-semi-space-size"); ok && mib > 0 && 3*mib<<20 < heapLimit {
		return heapLimit - 3*mib<<20, LimitFromSemiSpace
	}
	reserve := min(uint64(youngReserveMax), heapLimit/131*3)
	return heapLimit - reserve, LimitFromEstimate
}

// V8SizeFlag finds the last value of a V8 size flag (MiB) among node options: --name=N,
// --name N, with '_' or '-' between the words as V8 accepts both.
func V8SizeFlag(args []string, name string) (uint64, bool) {
	var val uint64
	found := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		key, value, hasValue := strings.Cut(a[2:], "=")
		if strings.ReplaceAll(key, "_", "-") != name {
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				continue
			}
			i++
			value = args[i]
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(value), 10, 64); err == nil && n < 1<<40 {
			val, found = n, true
		}
	}
	return val, found
}

// NodeOptionsOf is the options given to node itself in a command line: the arguments
// after argv[0] up to the script (the first that is not an option, or "--"), with the
// value of an option that takes the next argument.
func NodeOptionsOf(cmdline []string) []string {
	if len(cmdline) < 2 {
		return nil
	}
	var out []string
	for i := 1; i < len(cmdline); i++ {
		a := cmdline[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		out = append(out, a)
		if takesValue[a] && i+1 < len(cmdline) {
			i++
			out = append(out, cmdline[i])
		}
	}
	return out
}

// takesValue lists node options whose value may be the next argument.
var takesValue = map[string]bool{
	"-r": true, "--require": true, "--import": true, "--loader": true, "--experimental-loader": true,
	"-C": true, "--conditions": true, "--title": true, "--input-type": true, "--env-file": true,
	"--max-old-space-size": true, "--max_old_space_size": true, "--max-semi-space-size": true, "--max_semi_space_size": true,
	"--stack-size": true, "--stack_size": true, "--inspect-port": true, "--debug-port": true,
	"--report-directory": true, "--report-filename": true, "--report-signal": true, "--disable-warning": true,
}

// SetOldSpaceLimit fills the old generation's limit from the heap limit and node's options.
func SetOldSpaceLimit(h *model.Heap, args []string, nodeOptions string) {
	if h.LimitBytes == nil || *h.LimitBytes == 0 {
		return
	}
	limit, from := OldSpaceLimit(*h.LimitBytes, args, nodeOptions)
	h.OldSpaceLimitBytes, h.OldSpaceLimitFrom = &limit, &from
}
