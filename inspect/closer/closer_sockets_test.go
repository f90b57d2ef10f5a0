package closer

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tcpPair is a connected TCP pair on the loopback: server side and client side.
func tcpPair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); c.Close() })
	return s.(*net.TCPConn), c.(*net.TCPConn)
}

// dupOf is a bare copy of c's descriptor, as attach.Conn.DupSocket makes it.
func dupOf(t *testing.T, c *net.TCPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var dup int
	var dupErr error
	if err := rc.Control(func(fd uintptr) { dup, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil || dupErr != nil {
		t.Fatal(err, dupErr)
	}
	return dup
}

// seesEOF reports whether a read on s ends (EOF) within d; it returns false on a timeout
// (the peer is still connected).
func seesEOF(t *testing.T, s *net.TCPConn, d time.Duration) bool {
	t.Helper()
	_ = s.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, s)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return true
}

// handover gives the client side of a fresh pair to a heldSockets over a real socketpair,
// as the attach and its closer do, and closes the attach's own copy.
func handover(t *testing.T, id int) (h *heldSockets, attachEnd *os.File, server *net.TCPConn) {
	t.Helper()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	attachEnd, closerEnd := os.NewFile(uintptr(pair[0]), "attach"), os.NewFile(uintptr(pair[1]), "closer")
	t.Cleanup(func() { attachEnd.Close() })
	h = &heldSockets{}
	done := make(chan struct{})
	go func() { h.receive(closerEnd); closerEnd.Close(); close(done) }()
	t.Cleanup(func() { attachEnd.Close(); <-done })
	server, client := tcpPair(t)
	fd := dupOf(t, client)
	if err := giveSocket(attachEnd, id, fd); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	for deadline := time.Now().Add(5 * time.Second); h.count() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the closer never received the socket")
		}
	}
	client.Close() // the attach is gone: its copy closes
	return h, attachEnd, server
}

func TestHeldSocketKeepsTheSessionAfterTheAttachCloses(t *testing.T) {
	h, _, server := handover(t, 1)
	// 200 ms: a closed client's FIN arrives on the loopback in microseconds.
	if seesEOF(t, server, 200*time.Millisecond) {
		t.Fatal("the server saw the client leave although the closer holds a copy")
	}
	h.release(1)
	if !seesEOF(t, server, 5*time.Second) {
		t.Fatal("the server did not see the client leave after the closer released its copy")
	}
}

func TestReleaseMessageClosesTheCopy(t *testing.T) {
	h, attachEnd, server := handover(t, 7)
	if err := releaseSocket(attachEnd, 7); err != nil {
		t.Fatal(err)
	}
	if !seesEOF(t, server, 5*time.Second) {
		t.Fatal("release did not end the session")
	}
	if n := h.count(); n != 0 {
		t.Errorf("%d sockets still held after release", n)
	}
}

func TestDrainReadsUntilTheServerEndsTheSession(t *testing.T) {
	h, _, server := handover(t, 2)
	h.drain()
	// The inspector still writes (an answer that was on its way): the closer reads it.
	if _, err := server.Write(make([]byte, 1<<20)); err != nil {
		t.Fatalf("the server's write of an answer failed: %v", err)
	}
	server.Close() // the inspector ends the session from its side
	for deadline := time.Now().Add(5 * time.Second); h.count() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the closer kept its copy after the server ended the session")
		}
	}
}

func TestReceiveIgnoresMalformedMessages(t *testing.T) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	attachEnd, closerEnd := os.NewFile(uintptr(pair[0]), "attach"), os.NewFile(uintptr(pair[1]), "closer")
	h := &heldSockets{}
	done := make(chan struct{})
	go func() { h.receive(closerEnd); closerEnd.Close(); close(done) }()
	for _, m := range []string{"give", "give x", "release", "nonsense 3", ""} {
		_ = unix.Sendmsg(int(attachEnd.Fd()), []byte(m), nil, nil, 0)
	}
	// A "give" with two descriptors holds none and closes both.
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	_ = unix.Sendmsg(int(attachEnd.Fd()), []byte("give 5"), unix.UnixRights(int(r.Fd()), int(w.Fd())), nil, 0)
	attachEnd.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("receive did not end when the attach's end closed")
	}
	if n := h.count(); n != 0 {
		t.Errorf("%d sockets held from malformed messages", n)
	}
}
