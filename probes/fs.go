// Package probes reads facts about processes from a proc filesystem.
//
// Every function takes its paths from an FS, so tests run against fake trees under
// testdata/ and the --proc flag can point at a host's /proc mounted elsewhere. Parsers of
// kernel text are split from file opening (ParseX takes bytes or a reader, FS.ReadX opens
// the file) so they can be table-tested and fuzzed. Probes never import inspect or report.
package probes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// DefaultRoot is where the kernel mounts procfs.
const DefaultRoot = "/proc"

// maxProcFileSize bounds a single read of a /proc text file. Files under /proc report a size
// of 0 (or a wrong size), so reads go until EOF; the bound keeps a hostile or broken file
// from exhausting memory. 64 MiB is far above any per-process file we read whole
// (net/* tables are streamed, not read whole).
const maxProcFileSize = 64 << 20

// ErrMalformed is wrapped by every parser error caused by unexpected kernel text.
var ErrMalformed = errors.New("malformed proc data")

// FS is the root of a proc filesystem, such as "/proc".
type FS struct {
	// Root is the directory procfs is mounted at.
	Root string
}

// NewFS returns an FS rooted at root, or at /proc when root is empty.
func NewFS(root string) FS {
	if root == "" {
		root = DefaultRoot
	}
	return FS{Root: root}
}

// Path joins parts below the root: fs.Path("1234", "status") is "/proc/1234/status".
func (p FS) Path(parts ...string) string {
	return filepath.Join(append([]string{p.Root}, parts...)...)
}

// PidPath joins parts below the directory of one process.
func (p FS) PidPath(pid int, parts ...string) string {
	return filepath.Join(append([]string{p.Root, strconv.Itoa(pid)}, parts...)...)
}

// ReadFile reads a whole proc file, up to maxProcFileSize bytes, until EOF. It uses the
// system calls directly: os.Open would also register the file with the netpoller and
// remove it again on close (two epoll_ctl calls that fail or do nothing for proc files),
// which measured a sixth of the CPU of a scan of a thousand processes. Errors are those
// of os.Open and os.File.Read (*fs.PathError around the errno).
func ReadFile(path string) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	for err == syscall.EINTR {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	// 512 bytes hold most per-process files (stat, limits, cgroup); larger ones grow.
	data := make([]byte, 0, 512)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := syscall.Read(fd, data[len(data):cap(data)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, &os.PathError{Op: "read", Path: path, Err: err})
		}
		if n <= 0 {
			return data, nil
		}
		data = data[:len(data)+n]
		if len(data) >= maxProcFileSize {
			return data[:maxProcFileSize], nil
		}
	}
}

// IsGone reports whether err means the file (and so usually the process) no longer exists.
// ESRCH shows up when a process exits between open and read.
func IsGone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, errESRCH)
}

// IsDenied reports whether err means the caller lacks the privilege to read the file.
func IsDenied(err error) bool {
	return errors.Is(err, fs.ErrPermission)
}

// IsOwn reports whether p is the procfs of our own pid namespace: its "self" link names
// our pid. Only then does a pid read there name the process a signal reaches.
func (p FS) IsOwn() bool {
	self, err := os.Readlink(p.Path("self"))
	return err == nil && self == strconv.Itoa(os.Getpid())
}
