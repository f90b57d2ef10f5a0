// Package watch follows one process over time: the Sampler reads a light sample at each
// interval (fds, sockets by state, RSS, children; the V8 heap and the loop's delay through
// an attach session), and Summarize fits each metric's trend and turns steady growth into
// findings through the growth package, with the time left until the fd limit or an out of
// memory. It sits above inspect, whose Collector it drives; inspect never imports it.
package watch
