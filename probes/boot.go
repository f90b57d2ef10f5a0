package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
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

// ClockBootTime is the boot time from the clocks: CLOCK_REALTIME now minus CLOCK_BOOTTIME
// now (the time since boot, suspend included, the clock process start times count in). It
// is exact to a few microseconds (the time between the reads: the boot clock is read on
// both sides of the wall clock and averaged), where /proc/stat's btime is truncated to whole
// seconds, so start times computed from btime are up to a second early. It is only this
// system's boot time: a proc tree of another host, or a fake one, keeps its btime.
func ClockBootTime() (time.Time, error) {
	var b1, r, b2 unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &b1); err != nil {
		return time.Time{}, fmt.Errorf("clock_gettime(CLOCK_BOOTTIME): %w", err)
	}
	if err := unix.ClockGettime(unix.CLOCK_REALTIME, &r); err != nil {
		return time.Time{}, fmt.Errorf("clock_gettime(CLOCK_REALTIME): %w", err)
	}
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &b2); err != nil {
		return time.Time{}, fmt.Errorf("clock_gettime(CLOCK_BOOTTIME): %w", err)
	}
	since := (time.Duration(b1.Nano()) + time.Duration(b2.Nano())) / 2
	return time.Unix(0, r.Nano()).Add(-since), nil
}

// RefineBootTime returns the clock's boot time when it agrees with btime (btime is the
// clock's value truncated to the second, so the two differ by less than a second; a
// second more allows for a wall clock stepped between the reads), btime otherwise (a proc
// tree of another host or another time namespace).
func RefineBootTime(btime, clock time.Time) time.Time {
	if d := clock.Sub(btime); d > -time.Second && d < 2*time.Second {
		return clock
	}
	return btime
}
