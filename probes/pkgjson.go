package probes

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// maxPackageJSON bounds the read of a package.json: a manifest is a few KiB; one larger
// than this is not worth parsing for its name on every scan.
const maxPackageJSON = 256 << 10

// maxPackageJSONLevels is how many directories above a script are searched for its
// package.json (a script in src/lib/x.js of a package finds <pkg>/package.json).
const maxPackageJSONLevels = 6

// ErrNoPackageName is returned when no package.json with a name was found.
var ErrNoPackageName = errors.New("no package.json with a name")

// ParsePackageName returns the "name" field of a package.json document. A document that
// is not a JSON object, or whose name is missing, empty or not a string, is an error.
func ParsePackageName(data []byte) (string, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return "", fmt.Errorf("package.json: %v: %w", err, ErrMalformed)
	}
	raw, ok := doc["name"]
	if !ok {
		return "", fmt.Errorf("package.json has no name: %w", ErrNoPackageName)
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return "", fmt.Errorf("package.json name %s is not a string: %w", raw, ErrMalformed)
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("package.json name is empty: %w", ErrNoPackageName)
	}
	return name, nil
}

// ReadCwd reads the /proc/<pid>/cwd link (the process's working directory, in its own
// mount namespace).
func (p FS) ReadCwd(pid int) (string, error) {
	return os.Readlink(p.PidPath(pid, "cwd"))
}

// ReadPackageName finds the package.json nearest above dir (an absolute path in the
// process's own filesystem view, read through /proc/<pid>/root so a container's files are
// found from the host) and returns its name and the manifest's path.
func (p FS) ReadPackageName(pid int, dir string) (name, file string, err error) {
	if !path.IsAbs(dir) {
		return "", "", fmt.Errorf("package.json above %q: not an absolute path: %w", dir, ErrNoPackageName)
	}
	dir = path.Clean(dir)
	for i := 0; i < maxPackageJSONLevels; i++ {
		file = path.Join(dir, "package.json")
		data, rerr := readBounded(p.PidPath(pid, "root", file), maxPackageJSON)
		switch {
		case rerr == nil:
			name, err = ParsePackageName(data)
			if err == nil {
				return name, file, nil
			}
		case errors.Is(rerr, fs.ErrNotExist):
		default:
			return "", "", fmt.Errorf("read %s of pid %d: %w", file, pid, rerr)
		}
		if dir == "/" {
			break
		}
		dir = path.Dir(dir)
	}
	return "", "", fmt.Errorf("package.json above %q of pid %d: %w", dir, pid, ErrNoPackageName)
}

// readBounded reads at most limit bytes of a regular file; a longer file is an error.
func readBounded(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes: %w", name, limit, ErrMalformed)
	}
	return data, nil
}
