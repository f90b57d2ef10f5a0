// Package inspect is the collection: the Collector reads one Snapshot of a process (status,
// fd table and sockets, the child tree, memory, limits, the container, the event loop's
// sample window) and joins them, scans every Node.js process for ps, and reads a stack.
// With --attach it hands the process to package session, which drives the inspector and
// adds the V8 heap, handles, socket owners and the loop's own delay. It never prints
// (report renders) and never decides (rules turns numbers into findings).
package inspect
