// Package inspectorsock finds, reaches and closes Node's inspector from /proc: the ports the
// command line and NODE_OPTIONS give it, the listening sockets that belong to it (found
// through the epoll instance of its thread, whatever the port), the address to dial, the
// inspector's clients, and the check that its listening socket is closed again. It never
// sends a signal.
package inspectorsock

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
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
// epoll_pwait on one epoll fd, the inspector's thread on another). So a listener is told by
// who waits on the epoll instance that watches it (/proc/<pid>/task/<tid>/syscall names the
// fd a blocked thread waits on, /proc/<pid>/fdinfo/<fd> what it watches), never by
// connecting to it:
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
	// App are watched by an epoll instance the main thread waits in: the app's own.
	App map[uint64]bool
	// OffMain are watched by an epoll instance that only threads other than the main
	// thread wait in: the inspector's thread, or a worker's loop.
	OffMain map[uint64]bool
}

// ClassifyListeners reads the threads of pid (at most listenerTries times, until every one
// of listening is told) and says which loop watches each listener. An error means the
// threads could not be read at all (no privilege, the process gone): nothing is told.
func ClassifyListeners(fs probes.FS, pid int, listening []uint64) (listenerLoops, error) {
	return ClassifyListenersTries(fs, pid, listening, listenerTries, listenerEvery)
}

// ClassifyListenersTries is classifyListeners with the number and spacing of reads given.
func ClassifyListenersTries(fs probes.FS, pid int, listening []uint64, tries int, every time.Duration) (listenerLoops, error) {
	res := listenerLoops{App: map[uint64]bool{}, OffMain: map[uint64]bool{}}
	if len(listening) == 0 {
		return res, nil
	}
	want := make(map[uint64]bool, len(listening))
	for _, ino := range listening {
		want[ino] = true
	}
	read := false
	var lastErr error
	for try := 0; try < tries && len(res.App)+len(res.OffMain) < len(want); try++ {
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
			into := res.OffMain
			if slices.Contains(tids, pid) {
				into = res.App // the main thread's tid is its pid
			}
			watches, _ := fs.ReadEpollWatchList(pid, epfd) // a bad line drops only itself
			for _, w := range watches {
				if want[w.Inode] && !res.App[w.Inode] {
					into[w.Inode] = true
				}
			}
		}
		for ino := range res.App {
			delete(res.OffMain, ino) // the main thread's loop wins: never asked
		}
	}
	if !read {
		return res, fmt.Errorf("read the threads of process %d to tell its loops apart: %w", pid, lastErr)
	}
	return res, nil
}

// Finding the inspector's socket without sending anything to the process.
//
// Node's inspector runs its own libuv loop on its own thread, with its own epoll instance
// (src/inspector_io.cc), which watches the inspector's listening socket. The main thread's
// loop watches the application's listeners. /proc/<pid>/fdinfo/<epoll fd> lists what each
// epoll instance watches (tfd lines, with the watched file's inode), and
// /proc/<pid>/task/<tid>/syscall names the epoll fd a blocked thread waits on. So in a
// process whose command line or NODE_OPTIONS configures the inspector, a listening socket
// watched by an epoll instance that is not the main thread's is the inspector's, on any
// port, 0 (random) included. Seen here on Node 20: main thread on epoll fd 14 watching the
// app's listener, the inspector thread on epoll fd 18 watching the inspector's.
//
// Worker threads run loops of their own too, and a worker can listen: its epoll instance
// looks like the inspector's (a pipe, an eventfd and the listener). Two things tell them
// apart: the listener must be bound to the host the inspector options name (127.0.0.1 by
// default), and the inspector thread starts while Node boots, before the main script can
// start a worker, so among the candidate epoll instances the inspector's is the one whose
// waiting thread has the lowest thread id. (An inspector opened late by SIGUSR1 in a process
// whose workers already listen on the same host is the one case this can get wrong.)

// mainEpollTries and mainEpollEvery bound the wait for the main thread to be seen in
// epoll_wait (it is there nearly all the time unless the loop is busy or blocked): 20 reads
// 5 ms apart cost at most 100 ms, and only in processes that configure an inspector.
const (
	mainEpollTries = 20
	mainEpollEvery = 5 * time.Millisecond
)

// ByEpoll returns the inodes of the listening sockets of pid that the inspector's
// thread watches, when cfg says an inspector is configured; nil otherwise. An error says
// why the search could not be made (no privilege, the main thread never seen in epoll).
func ByEpoll(fs probes.FS, pid int, fds []model.FD, cfg Config) (map[uint64]bool, error) {
	return ByEpollTries(fs, pid, fds, cfg, mainEpollTries)
}

// ByEpollTries is inspectorByEpoll reading the threads at most tries times.
func ByEpollTries(fs probes.FS, pid int, fds []model.FD, cfg Config, tries int) (map[uint64]bool, error) {
	if !cfg.Configured {
		return nil, nil
	}
	listeners := map[uint64]*model.Socket{}
	var epolls []int
	for _, fd := range fds {
		switch {
		case fd.Type == "epoll":
			epolls = append(epolls, fd.FD)
		case fd.Type == "tcp" && fd.Socket != nil && fd.Socket.State == "LISTEN":
			listeners[fd.Socket.Inode] = fd.Socket
		}
	}
	if len(listeners) == 0 || len(epolls) < 2 {
		return nil, nil
	}
	var waiters map[int][]int
	mainEpoll := -1
	for try := 0; try < tries && mainEpoll < 0; try++ {
		if try > 0 {
			time.Sleep(mainEpollEvery)
		}
		w, err := fs.EpollWaiters(pid)
		if err != nil {
			return nil, fmt.Errorf("threads of process %d: %w", pid, err)
		}
		waiters = w
		for epfd, tids := range w {
			if slices.Contains(tids, pid) {
				mainEpoll = epfd
			}
		}
	}
	if mainEpoll < 0 {
		return nil, fmt.Errorf("the main thread of process %d was never seen waiting in epoll (its loop is busy or blocked), so its loop cannot be told from the inspector's", pid)
	}
	type candidate struct {
		epfd, firstTID int
		inodes         map[uint64]bool
	}
	var found []candidate
	for _, epfd := range epolls {
		if epfd == mainEpoll {
			continue
		}
		watches, err := fs.ReadEpollWatchList(pid, epfd)
		if err != nil && len(watches) == 0 {
			continue
		}
		c := candidate{epfd: epfd, firstTID: 1 << 30, inodes: map[uint64]bool{}}
		for _, w := range watches {
			if so, ok := listeners[w.Inode]; ok && boundToInspectorHost(so, cfg.Hosts) {
				c.inodes[w.Inode] = true
			}
		}
		if len(c.inodes) == 0 {
			continue
		}
		for _, tid := range waiters[epfd] {
			c.firstTID = min(c.firstTID, tid)
		}
		found = append(found, c)
	}
	if len(found) == 0 {
		return nil, nil
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].firstTID != found[j].firstTID {
			return found[i].firstTID < found[j].firstTID
		}
		return found[i].epfd < found[j].epfd
	})
	return found[0].inodes, nil
}

// boundToInspectorHost reports whether a listener is bound where the inspector options say
// (127.0.0.1 when they name no host). A host that is not an address ("localhost", a name)
// resolves to addresses we do not look up, so any listener matches it.
func boundToInspectorHost(so *model.Socket, hosts []string) bool {
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1"}
	}
	local, err := netip.ParseAddr(model.HostOf(so.Local))
	if err != nil {
		return false
	}
	for _, h := range hosts {
		want, err := netip.ParseAddr(h)
		if err != nil {
			return true
		}
		if want.Unmap() == local.Unmap() {
			return true
		}
	}
	return false
}
