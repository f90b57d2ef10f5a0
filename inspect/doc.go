// Package inspect collects one Snapshot of a process: the Collector reads the probes
// (status, fd table, sockets, tree, memory, limits, the event loop's sample window), joins
// them, and, with --attach, drives the inspector session that adds the V8 heap, handles,
// socket owners and the loop's own delay. It never prints (report renders) and never
// decides (rules turns numbers into findings).
package inspect
