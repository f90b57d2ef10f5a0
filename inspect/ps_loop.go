package inspect

import (
	"time"

	"github.com/nodeinspect/nodeinspect/probes"
)

// latestEndFactor bounds, as a multiple of the window, when the end of a shared window is
// read (its counters decide the busy share): the end is due at the window itself, and on
// a machine too loaded to read it within half a window more, a thread that turned idle
// at the start is still not called saturated, since the settled samples show it idle in
// more than a tenth of them (EventLoopFromSamples).
const latestEndFactor = 1.5

// sharedSettle is the SettleFunc of the window ps, top and serve share: it stops the
// reads of a main thread once they cannot change its verdict (the rules of
// EventLoopFromSamples), so a host of idle Node.js processes costs a few reads of each
// rather than one every sharedSampleEvery.
//
//   - Without the privilege to read the system call (or without the file) the verdict is
//     unknown whatever comes next.
//   - A wait in epoll seen while the main thread had no child is the event loop's (a
//     spawnSync's private loop waits for a child), so the loop turns; only saturated
//     remains possible, which needs the thread busy (on a CPU or waiting for one:
//     schedstat) for saturatedPercent of the window. Busy time grows at most as fast as
//     the clock, so once busy-so-far is below elapsed minus the other tenth of the
//     latest end, saturation is out of reach; until then one look at schedstat when that
//     could first hold decides, and a thread still busy then is sampled to the end.
//
// A thread settled by schedstat has its window end there (its end counters are read at once): the verdict
// is decided, and the busy share over the shorter window is below saturatedPercent too
// (busy < elapsed - idle, with idle a tenth of latestEndFactor windows, which is more
// than a tenth of any elapsed time within the window). So a scan of idle processes takes
// a fraction of the window, unless a socket queue is watched through it (psWindow).
func sharedSettle(window time.Duration) probes.SettleFunc {
	latest := time.Duration(float64(window) * latestEndFactor)
	idle := latest * (100 - saturatedPercent) / 100
	return func(s *probes.LoopSamples, elapsed time.Duration) probes.SettleStep {
		if s.SyscallDenied || s.Source != "syscall" {
			// Watched to the end all the same: its CPU share is over the whole window.
			return probes.SettleStep{Settled: true}
		}
		loop := false
		for fd := range s.EpollNoChild {
			loop = loop || s.EpollWaits[fd] > 0
		}
		if !loop {
			return probes.SettleStep{}
		}
		if s.Start.RunNS == nil || s.Start.WaitNS == nil {
			// Busy from clock ticks decides saturation only over minTicksForBusy.
			// Watched to the end: busy from ticks over a short span is all rounding.
			if float64(probes.ClockTicks)*latest.Seconds() < minTicksForBusy {
				return probes.SettleStep{Settled: true}
			}
			return probes.SettleStep{}
		}
		if s.Now.RunNS == nil || s.Now.WaitNS == nil {
			// No look yet: the first time saturation could be out of reach for a thread
			// idle since the start.
			return probes.SettleStep{Settled: true, CheckAt: idle + time.Millisecond}
		}
		busy := time.Duration(*s.Now.RunNS-min(*s.Start.RunNS, *s.Now.RunNS)) + time.Duration(*s.Now.WaitNS-min(*s.Start.WaitNS, *s.Now.WaitNS))
		if busy < elapsed-idle {
			return probes.SettleStep{Settled: true, End: true}
		}
		return probes.SettleStep{Settled: true, CheckAt: busy + idle + time.Millisecond}
	}
}
