package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/session"
	"github.com/urfave/cli/v3"
)

// without returns flags minus those called by one of names: a flag a command cannot use is
// not offered (and so is refused, naming it) rather than accepted and ignored.
func without(flags []cli.Flag, names ...string) []cli.Flag {
	return except(flags, func(f cli.Flag) bool {
		return slices.ContainsFunc(f.Names(), func(n string) bool { return slices.Contains(names, n) })
	})
}

// withoutString is list less every element equal to drop.
func withoutString(list []string, drop string) []string {
	return except(list, func(s string) bool { return s == drop })
}

// except is the one "list less what drop matches" of without and withoutString: a new
// slice, list itself left as it is (unlike slices.DeleteFunc, which would rewrite a
// document's warnings in place).
func except[T any](list []T, drop func(T) bool) []T {
	out := make([]T, 0, len(list))
	for _, v := range list {
		if !drop(v) {
			out = append(out, v)
		}
	}
	return out
}

// failOnDefault sets the default of the --fail-on flag among flags.
func failOnDefault(flags []cli.Flag, def string) []cli.Flag {
	for _, f := range flags {
		if s, ok := f.(*cli.StringFlag); ok && s.Name == "fail-on" {
			s.Value = def
		}
	}
	return flags
}

// percentFlags are the thresholds given as a percentage: above 0 and at most 100.
var percentFlags = []string{"emfile-warning", "emfile-critical", "backlog-percent", "heap-warning", "heap-critical", "container-memory-warning", "container-memory-critical", "cpu-throttled-percent", "pids-percent"}

// zeroMeansAll are the count flags where 0 means "no limit" (--top 0: every row).
var zeroMeansAll = []string{"top"}

// durationIn is the Validator of a duration flag: a value outside [lo, hi] is refused as
// "--name v is out of range: give <give>", which the CLI library reports as a usage error
// (exit 2, one line) as the flag is parsed. An unset flag keeps its default, in range.
func durationIn(name string, lo, hi time.Duration, give string) func(time.Duration) error {
	return func(v time.Duration) error {
		if v < lo || v > hi {
			return fmt.Errorf("--%s %s is out of range: give %s", name, v, give)
		}
		return nil
	}
}

// durationAtLeast is the Validator of a duration flag that must be at least lo.
func durationAtLeast(name string, lo time.Duration) func(time.Duration) error {
	return func(v time.Duration) error {
		if v < lo {
			return fmt.Errorf("--%s must be at least %s, got %s", name, lo, v)
		}
		return nil
	}
}

// intIn is durationIn for an integer flag.
func intIn(name string, lo, hi int, give string) func(int) error {
	return func(v int) error {
		if v < lo || v > hi {
			return fmt.Errorf("--%s %d is out of range: give %s", name, v, give)
		}
		return nil
	}
}

// Bounds shared by several commands: the attach steps' time limit and the event-loop
// sampling window.
const (
	minAttachTimeout = 100 * time.Millisecond
	maxAttachTimeout = time.Minute
	maxSampleWindow  = time.Minute
)

// attachTimeoutFlag is --attach-timeout with its range check.
func attachTimeoutFlag(usage string) cli.Flag {
	return &cli.DurationFlag{Name: "attach-timeout", Value: session.DefaultAttachTimeout, Usage: usage,
		Validator: durationIn("attach-timeout", minAttachTimeout, maxAttachTimeout, "100ms up to 1m")}
}

// addValidators gives every numeric threshold flag of the tree a check of its own value, run
// by the CLI library as the flag is parsed: NaN, infinities, zero and negatives are refused,
// and percentages above 100. The message names the flag. A flag that has a check of its own
// (intIn, durationIn) keeps it. (Pairs, a warning above its
// critical, are checked once all flags are read: checkThresholdPairs.)
func addValidators(root *cli.Command) {
	for _, c := range root.Commands {
		for _, f := range c.Flags {
			switch f := f.(type) {
			case *cli.FloatFlag:
				if f.Validator != nil {
					continue
				}
				name, percent := f.Name, slices.Contains(percentFlags, f.Name)
				f.Validator = func(v float64) error {
					switch {
					case math.IsNaN(v) || math.IsInf(v, 0):
						return fmt.Errorf("--%s must be a number, got %v", name, v)
					case v <= 0:
						return fmt.Errorf("--%s must be above 0, got %v", name, v)
					case percent && v > 100:
						return fmt.Errorf("--%s is a percentage: at most 100, got %v", name, v)
					}
					return nil
				}
			case *cli.IntFlag:
				if f.Validator != nil {
					continue
				}
				name, zeroOK := f.Name, slices.Contains(zeroMeansAll, f.Name)
				f.Validator = func(v int) error {
					switch {
					case zeroOK && v < 0:
						return fmt.Errorf("--%s must be 0 (all) or more, got %d", name, v)
					case !zeroOK && v <= 0:
						return fmt.Errorf("--%s must be at least 1, got %d", name, v)
					}
					return nil
				}
			}
		}
	}
}

// checkThresholdPairs refuses a --X-warning above its --X-critical (either given or
// default): the warning would never be reported.
func checkThresholdPairs(c *cli.Command) error {
	for _, f := range c.Flags {
		name := f.Names()[0]
		base, ok := strings.CutSuffix(name, "-warning")
		if !ok || !hasFlag(c, base+"-critical") {
			continue
		}
		crit := base + "-critical"
		w, wok := numeric(c.Value(name))
		k, kok := numeric(c.Value(crit))
		if !wok || !kok || w <= k {
			continue
		}
		def := func(n string) string {
			if c.IsSet(n) {
				return ""
			}
			return " (the default)"
		}
		return usageError("--%s %v%s is above --%s %v%s: such a warning would never be reported; lower it or raise --%s", name, w, def(name), crit, k, def(crit), crit)
	}
	return nil
}

// numeric reads a flag value of any number type.
func numeric(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	case uint64:
		return float64(v), true
	case uint:
		return float64(v), true
	}
	return 0, false
}

// checkProcRoot says when --proc names something that is not a proc tree, so that a typo
// is not reported as "no such process". Only a path that is wrong is refused: one that
// exists but may not be read is left to the collector, which says what to run instead
// (exit 4).
func checkProcRoot(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
		return nil
	case err != nil:
		return usageError("--proc %s: %v: give the directory a proc filesystem is mounted on (default /proc)", dir, unwrapPathError(err))
	case !st.IsDir():
		return usageError("--proc %s is not a directory: give the directory a proc filesystem is mounted on (default /proc)", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "stat")); errors.Is(err, fs.ErrNotExist) {
		return usageError("--proc %s does not look like a proc tree (no %s): give the directory a proc filesystem is mounted on (default /proc)", dir, filepath.Join(dir, "stat"))
	}
	return nil
}

// unwrapPathError returns the reason of a *os.PathError without repeating its path.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
