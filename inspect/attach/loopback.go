package attach

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// LoopbackUp reports whether the loopback interface of the network namespace at nsPath
// ("" for ours) is up (IFF_UP): Node opens the inspector on 127.0.0.1, which nothing can
// reach, to use or to close it, when lo is down (unshare --net without `ip link set lo up`).
func LoopbackUp(nsPath string) (bool, error) {
	type result struct {
		up  bool
		err error
	}
	done := make(chan result, 1)
	go func() {
		if nsPath != "" {
			runtime.LockOSThread()
			// No UnlockOSThread: the thread ends with the goroutine (see DialInNetNS).
			fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				done <- result{err: fmt.Errorf("open network namespace %s: %w", nsPath, err)}
				return
			}
			err = unix.Setns(fd, unix.CLONE_NEWNET)
			unix.Close(fd)
			if err != nil {
				done <- result{err: fmt.Errorf("enter network namespace %s: %w", nsPath, err)}
				return
			}
		}
		s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			done <- result{err: fmt.Errorf("socket for SIOCGIFFLAGS: %w", err)}
			return
		}
		defer unix.Close(s)
		ifr, err := unix.NewIfreq("lo")
		if err != nil {
			done <- result{err: fmt.Errorf("ifreq lo: %w", err)}
			return
		}
		if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
			done <- result{err: fmt.Errorf("SIOCGIFFLAGS lo: %w", err)}
			return
		}
		done <- result{up: ifr.Uint16()&unix.IFF_UP != 0}
	}()
	r := <-done
	return r.up, r.err
}
