package probes

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ParseCmdline splits /proc/<pid>/cmdline on NUL bytes, dropping the trailing empty
// fields. A process.title rewrite may leave one string with spaces and no NUL: it stays one
// element. A title shorter than the original arguments leaves their whole area padded with
// NULs ("short-title\0\0\0..."), which would read as dozens of empty arguments: trailing
// NULs are dropped, all of them. (Genuinely empty last arguments, `node app.js ""`, look the
// same to the kernel and go too; empty arguments in the middle stay.)
func ParseCmdline(data []byte) []string {
	data = bytes.TrimRight(data, "\x00")
	if len(data) == 0 {
		return []string{}
	}
	parts := bytes.Split(data, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

// ReadCmdline reads /proc/<pid>/cmdline (empty for zombies and kernel threads).
func (p FS) ReadCmdline(pid int) ([]string, error) {
	data, err := ReadFile(p.PidPath(pid, "cmdline"))
	if err != nil {
		return nil, err
	}
	return ParseCmdline(data), nil
}

// ReadExe reads the /proc/<pid>/exe link; " (deleted)" is kept as is.
func (p FS) ReadExe(pid int) (string, error) {
	return os.Readlink(p.PidPath(pid, "exe"))
}

// IsNodeExe reports whether an executable path is a Node.js binary: its base name (after
// stripping " (deleted)", which an upgraded binary shows) is node, nodejs or node followed
// by a version (node20, node-20, node20.11).
func IsNodeExe(exe string) bool {
	base := filepath.Base(strings.TrimSuffix(exe, " (deleted)"))
	switch base {
	case "node", "nodejs":
		return true
	}
	rest, ok := strings.CutPrefix(base, "node")
	if !ok || rest == "" {
		return false
	}
	rest = strings.TrimPrefix(rest, "-")
	if rest == "" {
		return false
	}
	for _, r := range rest {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}

// MapsHaveLibnode reports whether a /proc/<pid>/maps listing maps libnode.so (an embedder
// of Node.js whose executable has another name).
func MapsHaveLibnode(r io.Reader) (bool, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		i := bytes.LastIndexByte(line, '/')
		if i >= 0 && bytes.HasPrefix(line[i+1:], []byte("libnode.so")) {
			return true, nil
		}
	}
	return false, sc.Err()
}

// DetectNodeByExe is the cheap half of DetectNode, for scans of every process: the exe
// link alone (one readlink), without the maps scan for embedders that link libnode (reading
// maps makes the kernel walk the whole address space) and without the cmdline fallback.
func (p FS) DetectNodeByExe(pid int) (bool, error) {
	exe, err := p.ReadExe(pid)
	if err != nil {
		return false, err
	}
	return IsNodeExe(exe), nil
}

// DetectNode decides whether pid is Node.js: from exe; else from maps (libnode); and when
// exe cannot be read for lack of privilege, from cmdline[0] or comm, returning by
// "cmdline" and the permission error so the caller can warn. comm and cmdline are never
// used when exe is readable: process.title rewrites them.
func (p FS) DetectNode(pid int) (isNode bool, by string, err error) {
	exe, err := p.ReadExe(pid)
	if err == nil {
		if IsNodeExe(exe) {
			return true, "exe", nil
		}
		f, merr := os.Open(p.PidPath(pid, "maps"))
		if merr != nil {
			return false, "", nil
		}
		defer f.Close()
		if ok, _ := MapsHaveLibnode(f); ok {
			return true, "maps", nil
		}
		return false, "", nil
	}
	if !IsDenied(err) {
		return false, "", err
	}
	if cmd, cerr := p.ReadCmdline(pid); cerr == nil && len(cmd) > 0 && IsNodeExe(firstWord(cmd[0])) {
		return true, "cmdline", fmt.Errorf("read exe: %w", err)
	}
	if st, serr := p.ReadStat(pid); serr == nil && IsNodeExe(st.Comm) {
		return true, "cmdline", fmt.Errorf("read exe: %w", err)
	}
	return false, "", fmt.Errorf("read exe: %w", err)
}

// firstWord is the text before the first space ("" for blank text).
func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
