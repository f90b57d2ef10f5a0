package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// ClockTicks is USER_HZ: the kernel exports process times in stat in units of 1/100 s on
// every mainstream architecture, whatever its internal HZ (man 5 proc, "clock ticks";
// sysconf(_SC_CLK_TCK) returns 100 on Linux), so no cgo call is needed.
const ClockTicks = 100

// BootTime reads the btime line of /proc/stat.
func (p FS) BootTime() (time.Time, error) {
	data, err := ReadFile(p.Path("stat"))
	if err != nil {
		return time.Time{}, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("btime ")); ok {
			v, err := strconv.ParseInt(string(bytes.TrimSpace(rest)), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("%s: btime %q: %w", p.Path("stat"), rest, ErrMalformed)
			}
			return time.Unix(v, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: no btime line: %w", p.Path("stat"), ErrMalformed)
}

// StartTime converts stat's starttime (clock ticks since boot) to a time.
func StartTime(boot time.Time, startTicks uint64) time.Time {
	return boot.Add(time.Duration(startTicks) * time.Second / ClockTicks)
}
