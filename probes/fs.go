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
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
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

// ReadFile reads a whole proc file, up to maxProcFileSize bytes, until EOF.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxProcFileSize))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
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
