package inspectorsock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nodeinspect/nodeinspect/inspect/attach"
	"github.com/nodeinspect/nodeinspect/probes"
)

// disconnectClients ends every connection the target's inspector on port has accepted: it
// takes a copy of each such socket from the target (pidfd_getfd, which needs the same
// access as reading its fd table, and stops nothing) and shuts it down. shutdown(2) acts
// on the socket, not the copy, so the inspector sees the client leave. This is what makes
// closing never block the target: inspector.close() waits on the main thread until every
// session is gone (measured on Node 20: the main thread sits in futex_do_wait while a
// second client stays; a shutdown of that client's socket frees it at once).
//
// It returns how many connections it ended.
func disconnectClients(pid, port int) (int, error) {
	if port <= 0 {
		return 0, nil
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return 0, fmt.Errorf("open a pidfd for process %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", dir, err)
	}
	n := 0
	var firstErr error
	for _, e := range ents {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dup, err := unix.PidfdGetfd(pidfd, fd, 0)
		if err != nil {
			if firstErr == nil && !errors.Is(err, unix.EBADF) {
				firstErr = fmt.Errorf("take a copy of fd %d of process %d (pidfd_getfd): %w", fd, pid, err)
			}
			continue
		}
		if isInspectorClient(dup, port) {
			if unix.Shutdown(dup, unix.SHUT_RDWR) == nil {
				n++
			}
		}
		unix.Close(dup)
	}
	return n, firstErr
}

// isInspectorClient reports whether fd is a connected TCP socket whose local port is port
// (a connection the inspector accepted).
func isInspectorClient(fd, port int) bool {
	if t, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || t != unix.SOCK_STREAM {
		return false
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return false
	}
	local := 0
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		local = a.Port
	case *unix.SockaddrInet6:
		local = a.Port
	}
	if local != port {
		return false
	}
	_, err = unix.Getpeername(fd)
	return err == nil
}

// Closer closes one inspector of a process without ever blocking the target: it
// schedules inspector.close() through its own session and leaves at once; closedFor then
// ends any client still connected once the close has begun (the listening socket is gone
// and the main thread waits for the sessions). Clients are not cut earlier: a client that
// leaves while a reply to it is on its way crashes Node 20.20's inspector thread (SIGSEGV
// in TcpHolder::WriteRaw from WsHandler::Write: the reply is written after EOF reset the
// socket; fixed upstream by nodejs/node#64209), and a shutdown is such a leave. Seen here
// from cores of the SIGKILL sweep: nodeinspect killed while its query was answered.
type Closer struct {
	Fs    probes.FS
	Pid   int
	Addr  string
	Inode uint64
	Dial  attach.Dialer
	// Scheduled is set once a close is on its way to the target.
	Scheduled bool
	// CloseNow closes with attach.CloseNow instead of a queued close.
	CloseNow bool
	// lingering are this closer's own sessions left open with an answer on its way.
	lingering []*attach.Conn
}

// Attempt schedules the close, once. It returns an error only for what the caller should
// report.
func (c *Closer) Attempt(ctx context.Context) error {
	if c.Scheduled {
		return nil
	}
	step, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	target, err := attach.ListTargets(step, c.Addr, c.Dial)
	if err != nil {
		return err
	}
	conn, err := attach.Dial(step, target.WebSocketURL, c.Dial)
	if err != nil {
		return err
	}
	closeFn := attach.ScheduleClose
	if c.CloseNow {
		closeFn = attach.CloseNow
	}
	sent, err := closeFn(step, conn)
	if conn.Pending() {
		// No answer yet (a close sent at once ends the session itself; a queued one waits
		// for the loop): the session stays open, read and discarded by its reader, until
		// the inspector ends it or this closer exits, so that no answer is ever written
		// to a client that left (nodejs/node#64209).
		c.lingering = append(c.lingering, conn)
	} else {
		conn.Close()
	}
	if sent {
		c.Scheduled = true
	}
	if err != nil && !sent {
		return err
	}
	return nil
}

// countClients counts the established connections on port of pid's namespace whose
// socket the process owns.
func countClients(fs probes.FS, pid, port int) (int, error) {
	owned, err := fs.SocketInodes(pid)
	if err != nil {
		return 0, err
	}
	socks, _ := fs.ReadSockets(pid, func(ino uint64) bool { return owned[ino] })
	n := 0
	for _, s := range socks {
		if (s.Proto == "tcp" || s.Proto == "tcp6") && s.State == "ESTABLISHED" && s.LocalPort == port {
			n++
		}
	}
	return n, nil
}

// ListeningOwned reports whether pid still has a listening socket with the given inode.
func ListeningOwned(fs probes.FS, pid int, inode uint64) (bool, error) {
	listening, err := fs.ReadListeningTCP(pid)
	if err != nil {
		return false, err
	}
	for _, s := range listening {
		if s.Inode == inode {
			return true, nil
		}
	}
	return false, nil
}

// cutAfter is how long clients may stay connected to an inspector whose close has begun
// before they are cut: the inspector ends its sessions itself within milliseconds (ours
// among them); only a client that stays holds the target's main thread. Cutting at once
// would race the inspector's own teardown of the same sockets.
const cutAfter = 300 * time.Millisecond

// ClosedFor reports whether the inspector whose listening socket was inode, on port, is
// closed: its listening socket is gone and no client connection remains. The listening
// socket goes first, while inspector.close() still waits on the target's main thread for
// every session to leave; a client still connected cutAfter later (pending records since
// when) is ended here. err is only for a target that is gone.
func ClosedFor(fs probes.FS, pid int, inode uint64, port int, pending *time.Time) (bool, error) {
	open, err := ListeningOwned(fs, pid, inode)
	if err != nil {
		return false, err
	}
	if open {
		return false, nil
	}
	n, err := countClients(fs, pid, port)
	if err != nil {
		return false, err
	}
	if n == 0 {
		return true, nil
	}
	if pending.IsZero() {
		*pending = time.Now()
		return false, nil
	}
	if time.Since(*pending) >= cutAfter {
		_, _ = disconnectClients(pid, port)
	}
	return false, nil
}
