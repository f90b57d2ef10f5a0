// Package watch follows one process over time. Run is the whole watch: a first snapshot
// (keeping one inspector session open with --attach), then a Sampler's light sample at
// each interval (fds, sockets by state, RSS, children; the V8 heap and the loop's delay
// through the session), shown as a live frame or one line per sample, and at the end the
// summary, where Summarize fits each metric's trend and turns steady growth into findings
// (through the growth package) with the time left until the fd limit or an out of memory.
// Warnings that come after the first frame go to a session.WarningSink and still reach
// the user. It sits above inspect, whose Collector it drives; inspect never imports it.
package watch
