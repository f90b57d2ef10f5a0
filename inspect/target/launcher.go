package target

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nodeinspect/nodeinspect/probes"
)

// nodeMarkers are dynamic symbol names every Node.js binary exports (N-API and libuv, for
// native addons) and no other program has: a Node.js executable, renamed or not, has them
// in its .dynstr; a script or another program named "node" does not. Reading .dynstr
// (5 MB of the 95 MB node binary) takes about 10 ms here.
var nodeMarkers = [][]byte{[]byte("napi_create_function"), []byte("uv_loop_init")}

// IsNodeBinary reports whether pid runs Node.js by a marker in its executable (or in a
// libnode it maps, for embedders), not by any name.
func IsNodeBinary(fs probes.FS, pid int) (bool, error) {
	exe := fs.PidPath(pid, "exe")
	if _, err := os.Stat(exe); err != nil {
		return false, err
	}
	if elfHasNodeMarkers(exe) {
		return true, nil
	}
	maps, err := os.ReadFile(fs.PidPath(pid, "maps"))
	if err != nil {
		return false, nil
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.Contains(filepath.Base(f[5]), "libnode") || seen[f[5]] {
			continue
		}
		seen[f[5]] = true
		// Through map_files would need the range; the path is fine for a library.
		if elfHasNodeMarkers(f[5]) {
			return true, nil
		}
	}
	return false, nil
}

// elfHasNodeMarkers reports whether the ELF file at path exports every nodeMarkers name.
func elfHasNodeMarkers(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	s := f.Section(".dynstr")
	if s == nil {
		return false
	}
	data, err := s.Data()
	if err != nil {
		return false
	}
	for _, m := range nodeMarkers {
		if !bytes.Contains(data, m) {
			return false
		}
	}
	return true
}

// launcherName names the package-manager launcher a Node.js command line runs ("" when it
// is not one): npm, npx, yarn, pnpm or corepack, by the script node runs, or by the title
// npm gives itself ("npm start").
func LauncherName(cmdline []string) string {
	names := map[string]string{
		"npm-cli.js": "npm", "npm": "npm", "npx-cli.js": "npx", "npx": "npx",
		"yarn.js": "yarn", "yarn.cjs": "yarn", "yarn": "yarn",
		"pnpm.cjs": "pnpm", "pnpm.js": "pnpm", "pnpm.mjs": "pnpm", "pnpm": "pnpm", "pnpx": "pnpm",
		"corepack": "corepack", "corepack.cjs": "corepack",
	}
	if len(cmdline) == 0 {
		return ""
	}
	if f := strings.Fields(cmdline[0]); len(f) > 0 {
		if n, ok := names[filepath.Base(f[0])]; ok && n != "corepack" {
			return n // process.title ("npm start", "npm exec ...")
		}
	}
	for _, a := range cmdline[1:] {
		if strings.HasPrefix(a, "-") {
			continue
		}
		return names[filepath.Base(a)]
	}
	return ""
}

// nodeBelow finds the first Node.js process (by its binary) below pid that is not itself a
// launcher, breadth first: the app a launcher or a shell runs. It returns 0 when there is none.
func NodeBelow(fs probes.FS, pid int) (int, string) {
	stats, _ := fs.ScanProcesses()
	tree := probes.NewTree(stats)
	queue := []int{pid}
	for depth := 0; len(queue) > 0 && depth < 8; depth++ {
		var next []int
		for _, p := range queue {
			for _, c := range tree.Children(p) {
				next = append(next, c.PID)
				if ok, _ := IsNodeBinary(fs, c.PID); !ok {
					continue
				}
				cmd, _ := fs.ReadCmdline(c.PID)
				if LauncherName(cmd) != "" {
					continue
				}
				return c.PID, clipCmd(cmd)
			}
		}
		queue = next
	}
	return 0, ""
}

// clipCmd joins a command line for a message, shortened.
func clipCmd(cmd []string) string {
	s := strings.Join(cmd, " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// ErrNoApp is returned by FollowLauncher when no Node.js app runs below the launcher.
var ErrNoApp = errors.New("no Node.js app below the launcher")

// FollowLauncher returns the pid of the Node.js app that pid launches when pid is a
// launcher (npm, npx, yarn, pnpm) or a shell whose child is Node.js, and pid itself
// otherwise (--follow).
func FollowLauncher(fs probes.FS, pid int) (int, error) {
	cmd, err := fs.ReadCmdline(pid)
	if err != nil {
		return pid, nil // Collect says what is wrong with pid
	}
	isNode, _ := IsNodeBinary(fs, pid)
	if isNode && LauncherName(cmd) == "" {
		return pid, nil
	}
	app, _ := NodeBelow(fs, pid)
	if app == 0 {
		return 0, fmt.Errorf("process %d (%s): %w", pid, clipCmd(cmd), ErrNoApp)
	}
	return app, nil
}
