package cmd

import (
	"strconv"
	"strings"

	"github.com/urfave/cli/v3"
)

// maxPid is the kernel's upper bound for pid_max (PID_MAX_LIMIT, 4194304 on 64-bit).
const maxPid = 1 << 22

// parsePid reads a pid argument: a positive decimal integer no larger than PID_MAX_LIMIT.
func parsePid(arg string) (int, error) {
	s := strings.TrimSpace(arg)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > maxPid || s != arg {
		return 0, usageError("pid %q is not a positive integer", arg)
	}
	return int(n), nil
}

// looksLikePid reports whether an argument is meant as a pid (digits, or a sign and digits).
func looksLikePid(arg string) bool {
	s := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "+")
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// pidAndOptions reads the pid argument and the common flags of a per-process command.
func pidAndOptions(c *cli.Command, deps Deps) (int, options, error) {
	pid, err := pidArg(c)
	if err != nil {
		return 0, options{}, err
	}
	opt, err := readOptions(c, deps)
	if err != nil {
		return pid, opt, err
	}
	pid, note := newCollector(deps, opt).ResolveThread(pid)
	if note != "" {
		printWarnings(deps, []string{note})
	}
	return pid, opt, nil
}
