package attach

import (
	"context"
	"fmt"
	"net"
	"runtime"

	"golang.org/x/sys/unix"
)

// DialInNetNS returns a Dialer that opens its sockets inside the network namespace at
// nsPath (/proc/<pid>/ns/net): the inspector listens on the loopback of the target's
// namespace, which is not ours when the target runs in a container. Entering a namespace
// needs CAP_SYS_ADMIN; without it the dial fails with a permission error that says so.
//
// Each dial runs on a fresh OS thread that enters the namespace and is never returned to
// the Go scheduler (the goroutine exits still locked, so the runtime ends the thread): no
// other goroutine ever runs in the target's namespace. A socket stays in the namespace it
// was created in, so the connection is then used from any thread.
func DialInNetNS(nsPath string) Dialer {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type result struct {
			conn net.Conn
			err  error
		}
		done := make(chan result, 1)
		go func() {
			runtime.LockOSThread()
			// No UnlockOSThread: see above.
			fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				done <- result{err: fmt.Errorf("open network namespace %s: %w", nsPath, err)}
				return
			}
			err = unix.Setns(fd, unix.CLONE_NEWNET)
			unix.Close(fd)
			if err != nil {
				done <- result{err: fmt.Errorf("enter network namespace %s (needs CAP_SYS_ADMIN, e.g. sudo): %w", nsPath, err)}
				return
			}
			var d net.Dialer
			conn, err := d.DialContext(ctx, network, addr)
			done <- result{conn, err}
		}()
		select {
		case r := <-done:
			return r.conn, r.err
		case <-ctx.Done():
			go func() {
				if r := <-done; r.conn != nil {
					r.conn.Close()
				}
			}()
			return nil, ctx.Err()
		}
	}
}

// CheckNetNS makes sure a Dialer of DialInNetNS(nsPath) can work before anything is sent
// to the target: it enters the namespace on a throwaway thread (which then ends), so a
// missing privilege is found before the inspector is opened, not after, when it could not
// be closed again.
func CheckNetNS(nsPath string) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread ends with the goroutine.
		fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- fmt.Errorf("open network namespace %s: %w", nsPath, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("enter network namespace %s (needs CAP_SYS_ADMIN, e.g. sudo): %w", nsPath, err)
			return
		}
		done <- nil
	}()
	return <-done
}
