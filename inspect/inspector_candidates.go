package inspect

import (
	"fmt"
	"time"

	"github.com/nodeinspect/nodeinspect/probes"
)

// Which listening sockets may be an inspector, decided before anything is sent to them.
//
// nodeinspect asks a listening socket for /json/version only when it may be Node's
// inspector. Asking one of the application's own servers is not harmless: the request
// runs the app's code (its handler, its logs, its metrics), and an app that never reads a
// connection keeps it for good, in CLOSE_WAIT once nodeinspect has gone. That is the "one
// more fd" seen after an attach on a stalled loop (issue 10): its main thread was busy in
// a timer at the moment its syscall file was read, so the app's server could not be told
// from an inspector and was probed.
//
// Node's inspector runs its own libuv loop on its own thread, with its own epoll instance
// (src/inspector_io.cc), and that epoll watches the inspector's listening socket; the main
// thread's loop watches the app's servers (as measured on Node 20: the main thread waits in
// epoll_pwait on one epoll fd, the inspector's thread on another). So a listener is told by who waits on the
// epoll instance that watches it (/proc/<pid>/task/<tid>/syscall names the fd a blocked
// thread waits on, /proc/<pid>/fdinfo/<fd> what it watches), never by connecting to it:
//   - watched by an epoll the main thread waits in: the app's (its loop, or the private
//     loop of a spawnSync);
//   - watched by an epoll only other threads wait in: the inspector's thread, or a worker's
//     loop (a worker that listens is the one app socket that can still be asked);
//   - watched by an epoll nobody was seen waiting in (the main loop while the main thread
//     is busy or inside a spawnSync, an inspector thread busy at every read): unknown, and
//     not asked.

// listenerTries and listenerEvery bound how long the threads are read while some listener
// is still unknown: idle loops sit in epoll_wait nearly all the time, so 10 reads 5 ms
// apart (50 ms at most, and one read when every listener is told at once) see each loop
// that is not busy for that long.
const (
	listenerTries = 10
	listenerEvery = 5 * time.Millisecond
)

// listenerLoops says which event loop of a process watches each of some of its listening
// sockets (by socket inode).
type listenerLoops struct {
	// app are watched by an epoll instance the main thread waits in: the app's own.
	app map[uint64]bool
	// offMain are watched by an epoll instance that only threads other than the main
	// thread wait in: the inspector's thread, or a worker's loop.
	offMain map[uint64]bool
}

// classifyListeners reads the threads of pid (at most listenerTries times, until every one
// of listening is told) and says which loop watches each listener. An error means the
// threads could not be read at all (no privilege, the process gone): nothing is told.
func classifyListeners(fs probes.FS, pid int, listening []uint64) (listenerLoops, error) {
	return classifyListenersTries(fs, pid, listening, listenerTries, listenerEvery)
}

// classifyListenersTries is classifyListeners with the number and spacing of reads given.
func classifyListenersTries(fs probes.FS, pid int, listening []uint64, tries int, every time.Duration) (listenerLoops, error) {
	res := listenerLoops{app: map[uint64]bool{}, offMain: map[uint64]bool{}}
	if len(listening) == 0 {
		return res, nil
	}
	want := make(map[uint64]bool, len(listening))
	for _, ino := range listening {
		want[ino] = true
	}
	read := false
	var lastErr error
	for try := 0; try < tries && len(res.app)+len(res.offMain) < len(want); try++ {
		if try > 0 {
			time.Sleep(every)
		}
		waiters, err := fs.EpollWaiters(pid)
		if err != nil {
			lastErr = err
			continue
		}
		read = true
		for epfd, tids := range waiters {
			into := res.offMain
			if containsInt(tids, pid) {
				into = res.app // the main thread's tid is its pid
			}
			watches, _ := fs.ReadEpollWatchList(pid, epfd) // a bad line drops only itself
			for _, w := range watches {
				if want[w.Inode] && !res.app[w.Inode] {
					into[w.Inode] = true
				}
			}
		}
		for ino := range res.app {
			delete(res.offMain, ino) // the main thread's loop wins: never asked
		}
	}
	if !read {
		return res, fmt.Errorf("read the threads of process %d to tell its loops apart: %w", pid, lastErr)
	}
	return res, nil
}
