package inspect

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

// inspectorCloser closes one inspector of a process without ever blocking the target: it
// ends the other clients' connections first, schedules inspector.close() through its own
// session, leaves at once, and ends any client that connects before the close has run.
type inspectorCloser struct {
	fs    probes.FS
	pid   int
	addr  string
	inode uint64
	dial  attach.Dialer
	// scheduled is set once a close is on its way to the target.
	scheduled bool
	// closeNow closes with attach.CloseNow instead of a queued close.
	closeNow bool
}

// attempt disconnects other clients and, once, schedules the close. It returns an error
// only for what the caller should report.
func (c *inspectorCloser) attempt(ctx context.Context) error {
	if _, err := disconnectClients(c.pid, portOf(c.addr)); err != nil && !c.scheduled {
		// Closing with a client connected would block the target's main thread until
		// the client leaves: do not schedule a close that could.
		if n, _ := countClients(c.fs, c.pid, portOf(c.addr)); n > 0 {
			return fmt.Errorf("%d client(s) are connected to the inspector and nodeinspect cannot disconnect them (%w); closing now would block the process until they leave", n, err)
		}
	}
	if c.scheduled {
		return nil
	}
	step, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	target, err := attach.ListTargets(step, c.addr, c.dial)
	if err != nil {
		return err
	}
	conn, err := attach.Dial(step, target.WebSocketURL, c.dial)
	if err != nil {
		return err
	}
	closeFn := attach.ScheduleClose
	if c.closeNow {
		closeFn = attach.CloseNow
	}
	sent, err := closeFn(step, conn)
	conn.Close()
	if sent {
		c.scheduled = true
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

// listeningOwned reports whether pid still has a listening socket with the given inode.
func listeningOwned(fs probes.FS, pid int, inode uint64) (bool, error) {
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
