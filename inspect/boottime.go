package inspect

import (
	"time"

	"github.com/nodeinspect/nodeinspect/probes"
)

// bootTime is the boot time start times are computed from: /proc/stat's btime (whole
// seconds), refined by the Collector's BootClock when it has one and the two agree, so
// started_at is exact to the clock tick.
func (c *Collector) BootTime() (time.Time, error) {
	btime, err := c.FS.BootTime()
	if err != nil || c.BootClock == nil {
		return btime, err
	}
	clock, cerr := c.BootClock()
	if cerr != nil {
		return btime, nil
	}
	return probes.RefineBootTime(btime, clock), nil
}

// bootClockFor is the BootClock of a collector over fs: the system's clocks for this
// system's own /proc, none for another tree (a fake one, or a host's /proc mounted into a
// container), whose processes started on another boot.
func bootClockFor(fs probes.FS) func() (time.Time, error) {
	if !fs.IsOwn() {
		return nil
	}
	return probes.ClockBootTime
}
