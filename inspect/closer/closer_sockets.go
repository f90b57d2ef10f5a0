package closer

// The session sockets an attach hands to its closer, so that no inspector session ends
// with a reply on its way.
//
// Node 20.20's inspector crashes the target (SIGSEGV in its inspector thread,
// TcpHolder::WriteRaw from WsHandler::Write; fixed upstream by nodejs/node#64209) when it
// writes a reply to a client whose connection has already ended. A client that leaves
// with a command unanswered (nodeinspect killed with SIGKILL mid-query, or leaving on
// Ctrl-C, SIGTERM or a step's time limit) is such a client. So right after each session is
// dialled, and before its first command, the attach sends the closer a copy of the
// session's socket (SCM_RIGHTS over a socketpair the closer inherited as fd 4). A TCP
// connection ends only when its last copy is closed, so while the closer holds one the
// inspector never sees this client leave, whatever happens to nodeinspect:
//   - the attach read every answer and is done with the session: it says "release N" and
//     the closer closes its copy (the session ends as it always did, with nothing pending);
//   - the attach is gone (end of file on its pipe) or handed the cleanup over: the closer
//     reads and discards whatever the inspector still sends on the copies it holds, and
//     closes each when the inspector ends that session itself (its close ends every session
//     from the target's side, which is safe), once that close has begun (the main thread
//     then waits in it for the sessions to leave and answers nothing more), or the target
//     exits.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// SessionSocketsFD is the closer's end of the socketpair the session sockets come on (the
// second of startCloser's ExtraFiles).
const SessionSocketsFD = 4

// heldSockets are the session sockets a closer holds for its attach, by id.
type heldSockets struct {
	mu       sync.Mutex
	held     map[int]*os.File
	draining bool
}

// receive reads the attach's messages on sock until it closes: "give N" with one socket
// attached, "release N". It runs on its own goroutine.
func (h *heldSockets) receive(sock *os.File) {
	buf := make([]byte, 64)
	oob := make([]byte, unix.CmsgSpace(4*4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || (n == 0 && oobn == 0) {
			return
		}
		var fds []int
		if cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range cmsgs {
				if got, err := unix.ParseUnixRights(&m); err == nil {
					fds = append(fds, got...)
				}
			}
		}
		verb, idText, _ := strings.Cut(string(buf[:n]), " ")
		id, _ := strconv.Atoi(idText)
		switch {
		case verb == "give" && len(fds) == 1 && id > 0:
			h.add(id, os.NewFile(uintptr(fds[0]), "session-"+idText))
			fds = nil
		case verb == "release":
			h.release(id)
		}
		for _, fd := range fds {
			unix.Close(fd) // not one we asked for
		}
	}
}

// add holds one socket (and drains it at once if the closer already owns the cleanup).
func (h *heldSockets) add(id int, f *os.File) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held == nil {
		h.held = map[int]*os.File{}
	}
	if old := h.held[id]; old != nil {
		old.Close()
	}
	h.held[id] = f
	if h.draining {
		go h.drainOne(id, f)
	}
}

// release closes the copy of a session whose answers the attach has all read.
func (h *heldSockets) release(id int) {
	h.mu.Lock()
	f := h.held[id]
	delete(h.held, id)
	h.mu.Unlock()
	if f != nil {
		f.Close()
	}
}

// drain starts reading and discarding what the inspector sends on every socket held (once
// the attach is gone or handed over): each is closed when the inspector ends its session.
func (h *heldSockets) drain() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining {
		return
	}
	h.draining = true
	for id, f := range h.held {
		go h.drainOne(id, f)
	}
}

// drainOne reads f until the inspector ends the session, then closes it.
func (h *heldSockets) drainOne(id int, f *os.File) {
	_, _ = io.Copy(io.Discard, f)
	h.release(id)
}

// closeAll closes every socket held: once the inspector's close has begun (its listening
// socket is gone), its main thread waits in the close for these sessions to leave and
// writes no more answers, so leaving now is safe, and it is what lets the close finish
// (and a main thread paused by the session resume).
func (h *heldSockets) closeAll() {
	h.mu.Lock()
	held := h.held
	h.held = nil
	h.mu.Unlock()
	for _, f := range held {
		f.Close()
	}
}

// count is how many sockets are held.
func (h *heldSockets) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.held)
}

// giveSocket sends the closer a copy of a session's socket, tagged id (see the file's
// comment). It must be called before the session's first command.
func giveSocket(sock *os.File, id int, socket int) error {
	msg := []byte("give " + strconv.Itoa(id))
	if err := unix.Sendmsg(int(sock.Fd()), msg, unix.UnixRights(socket), nil, 0); err != nil {
		return fmt.Errorf("hand the session's socket to the closer: %w", err)
	}
	return nil
}

// releaseSocket tells the closer to close its copy of session id.
func releaseSocket(sock *os.File, id int) error {
	if err := unix.Sendmsg(int(sock.Fd()), []byte("release "+strconv.Itoa(id)), nil, nil, 0); err != nil {
		return fmt.Errorf("tell the closer to release session %d: %w", id, err)
	}
	return nil
}
