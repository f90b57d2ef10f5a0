// Command floor is the in-repo floor of `make bench`: the least work any tool must do to
// list a process's fds with their sockets. It lists /proc/<pid>/fd with getdents64, calls
// readlink once per fd into one buffer, and makes one pass over the namespace's TCP
// sockets through netlink sock_diag (IPv4 and IPv6), keeping only the socket count. It
// prints the two counts and nothing else: no classification, no join, no output format.
package main

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/nodeinspect/nodeinspect/probes"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor <pid>")
		os.Exit(2)
	}
	pid, err := strconv.Atoi(os.Args[1])
	if err != nil || pid <= 0 {
		fmt.Fprintln(os.Stderr, "floor: pid must be a positive integer")
		os.Exit(2)
	}
	fds, err := readlinkAll(pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	sockets := 0
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if err := probes.DumpInetDiag(family, unix.IPPROTO_TCP, probes.InetDiagAllStates, nil, func(probes.Socket) { sockets++ }); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
	}
	fmt.Println(fds, sockets)
}

// readlinkAll reads every link of /proc/<pid>/fd and returns how many it read.
func readlinkAll(pid int) (int, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	dents := make([]byte, 64<<10)
	link := make([]byte, 4096)
	n := 0
	for {
		size, err := unix.Getdents(dfd, dents)
		if err != nil {
			return n, fmt.Errorf("getdents %s: %w", dir, err)
		}
		if size == 0 {
			return n, nil
		}
		for off := 0; off < size; {
			reclen := int(dents[off+16]) | int(dents[off+17])<<8
			name := dents[off+19 : off+reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			off += reclen
			if len(name) == 0 || name[0] == '.' {
				continue
			}
			if _, err := unix.Readlinkat(dfd, string(name), link); err == nil {
				n++
			}
		}
	}
}
