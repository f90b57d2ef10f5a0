// Package closer is the detached process that guarantees an inspector opened by
// `--attach` is closed: Start launches it (the hidden __closer command, Run) before the
// SIGUSR1, it holds a copy of each session's socket so a crash of this run cannot leave
// Node's inspector half-answered, and it closes the inspector itself if this run dies or
// stops. It owns the state files under StateDir that `nodeinspect detach` and later runs
// read, and PruneState, which removes those of targets that are gone.
package closer
