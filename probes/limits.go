package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
)

// Limit is one row of /proc/<pid>/limits. Soft and Hard are nil when "unlimited".
type Limit struct {
	Name       string
	Soft, Hard *uint64
	Units      string
}

// Limits maps a limit's name ("Max open files") to its row.
type Limits map[string]Limit

// OpenFiles returns RLIMIT_NOFILE; ok is false when the row is missing.
func (l Limits) OpenFiles() (soft, hard *uint64, ok bool) {
	r, ok := l["Max open files"]
	return r.Soft, r.Hard, ok
}

// limitRow matches a row: the name (words with single spaces), then soft, hard and an
// optional unit, separated by two or more spaces (fs/proc/base.c prints "%-25s %-20s %-20s %-10s").
var limitRow = regexp.MustCompile(`^(Max [A-Za-z ]+?)\s{2,}(\S+)\s+(\S+)\s*(\S*)\s*$`)

// ParseLimits parses /proc/<pid>/limits.
func ParseLimits(data []byte) (Limits, error) {
	out := Limits{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			if !bytes.HasPrefix([]byte(line), []byte("Limit")) {
				return nil, fmt.Errorf("limits: header %q: %w", quote([]byte(line)), ErrMalformed)
			}
			continue
		}
		if line == "" {
			continue
		}
		m := limitRow.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("limits: row %q: %w", quote([]byte(line)), ErrMalformed)
		}
		soft, err := parseLimitValue(m[2])
		if err != nil {
			return nil, fmt.Errorf("limits: row %q: %w", quote([]byte(line)), ErrMalformed)
		}
		hard, err := parseLimitValue(m[3])
		if err != nil {
			return nil, fmt.Errorf("limits: row %q: %w", quote([]byte(line)), ErrMalformed)
		}
		out[m[1]] = Limit{Name: m[1], Soft: soft, Hard: hard, Units: m[4]}
	}
	if first {
		return nil, fmt.Errorf("limits: empty: %w", ErrMalformed)
	}
	return out, sc.Err()
}

func parseLimitValue(s string) (*uint64, error) {
	if s == "unlimited" {
		return nil, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// ReadLimits reads /proc/<pid>/limits.
func (p FS) ReadLimits(pid int) (Limits, error) {
	data, err := ReadFile(p.PidPath(pid, "limits"))
	if err != nil {
		return nil, err
	}
	return ParseLimits(data)
}
