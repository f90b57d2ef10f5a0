// Package diff compares two saved snapshots of a process: Compare matches their fd tables
// (by what each fd is, not its number), sockets by state and peer, children and memory,
// and turns what grew past the Thresholds into findings (FD_GROWTH, CLOSE_WAIT_GROWTH,
// RSS_GROWTH, HEAP_GROWTH through the growth package, and DELETED_FILES_HELD for files
// deleted while held since the first snapshot). Snapshots less than ShortInterval apart
// give absolute changes only, no rates. It reads no process and prints nothing.
package diff
