// Package fleet is what `nodeinspect serve` and `nodeinspect top` share: one scan of every
// Node.js process on the host (inspect's ps scan), shared between callers that ask close
// together, each process named by a stable service name; and the mapping of a scan to the
// exporter's metrics (metrics.go, pure) and to Prometheus (prom.go, the only file that
// imports client_golang).
package fleet

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/nodeinspect/nodeinspect/probes"
)

// Identity is how a process is named in the metrics: a service name that survives a
// restart (unlike the pid), and the facts behind the _info series.
type Identity struct {
	// Service is the stable name (see nameService), before collisions are resolved.
	Service string
	// NameFrom says where Service came from: pm2, package.json, script, command.
	NameFrom string
	// PM2ID is pm2's instance id (env pm_id), -1 when not under pm2.
	PM2ID int
	// NodeVersion is the Node.js version when it can be known without running anything
	// (env NODE_VERSION of the official images, or a version in the executable's path),
	// "" otherwise.
	NodeVersion string
}

// nodeFlagsWithValue are the node options that take their value as the next argument, so
// the script is not mistaken for it (`node -r dotenv/config server.js`).
var nodeFlagsWithValue = map[string]bool{
	"-r": true, "--require": true, "--import": true, "--loader": true, "--experimental-loader": true,
	"--env-file": true, "--title": true, "--inspect-port": true, "--conditions": true, "-C": true,
	"--input-type": true,
}

// ScriptOf returns the script argument of a node command line ("" for `node -e`, `node -p`
// or a REPL): the first argument after the executable that is not an option or an option's
// value.
func ScriptOf(cmdline []string) string {
	for i := 1; i < len(cmdline); i++ {
		a := cmdline[i]
		switch {
		case a == "-e" || a == "--eval" || a == "-p" || a == "--print" || a == "-":
			return ""
		case a == "--":
			if i+1 < len(cmdline) {
				return cmdline[i+1]
			}
			return ""
		case strings.HasPrefix(a, "-"):
			if nodeFlagsWithValue[a] {
				i++
			}
		default:
			return a
		}
	}
	return ""
}

// versionInPath finds a Node.js version in an executable path
// (~/.nvm/versions/node/v20.20.0/bin/node, /usr/local/n/versions/node/22.1.0/bin/node).
var versionInPath = regexp.MustCompile(`(?:^|/)v?(\d+\.\d+\.\d+)(?:/|$)`)

// NodeVersionOf picks the Node.js version from the NODE_VERSION environment variable (set
// by the official Docker images) or from the executable's path; "" when neither says.
func NodeVersionOf(envVersion, exe string) string {
	if v := strings.TrimPrefix(strings.TrimSpace(envVersion), "v"); v != "" {
		return v
	}
	if m := versionInPath.FindStringSubmatch(exe); m != nil {
		return m[1]
	}
	return ""
}

// identify names one process. Reads that fail (another user's environ without privilege)
// fall through to the next source: pm2's app name (env name with pm_id), the name in the
// package.json nearest above the script, the script path, the command.
func identify(fs probes.FS, pid int, cmdline []string, comm string) Identity {
	id := Identity{PM2ID: -1}
	environ, envErr := probes.ReadFile(fs.PidPath(pid, "environ"))
	if envErr == nil {
		if pmID, ok := probes.LookupEnv(environ, "pm_id"); ok {
			if name, ok := probes.LookupEnv(environ, "name"); ok && strings.TrimSpace(name) != "" {
				id.Service, id.NameFrom = strings.TrimSpace(name), "pm2"
				if n, err := strconv.Atoi(pmID); err == nil {
					id.PM2ID = n
				}
			}
		}
		v, _ := probes.LookupEnv(environ, "NODE_VERSION")
		exe, _ := fs.ReadExe(pid)
		id.NodeVersion = NodeVersionOf(v, exe)
	} else {
		exe, _ := fs.ReadExe(pid)
		id.NodeVersion = NodeVersionOf("", exe)
	}
	if id.Service != "" {
		return id
	}
	script := ScriptOf(cmdline)
	if script != "" {
		abs := script
		if !path.IsAbs(abs) {
			if cwd, err := fs.ReadCwd(pid); err == nil && path.IsAbs(cwd) {
				abs = path.Join(cwd, script)
			}
		}
		if path.IsAbs(abs) {
			if name, _, err := fs.ReadPackageName(pid, path.Dir(abs)); err == nil {
				id.Service, id.NameFrom = name, "package.json"
				return id
			}
		}
		id.Service, id.NameFrom = path.Clean(abs), "script"
		return id
	}
	id.Service, id.NameFrom = commandName(cmdline, comm), "command"
	return id
}

// commandName names a process without a script: `node -e`, `node` (a REPL), or comm.
func commandName(cmdline []string, comm string) string {
	if len(cmdline) == 0 {
		if comm == "" {
			return "node"
		}
		return comm
	}
	name := path.Base(cmdline[0])
	for _, a := range cmdline[1:] {
		if a == "-e" || a == "--eval" || a == "-p" || a == "--print" {
			return name + " " + a
		}
	}
	return name
}

// named is one process to name: its identity, container and the keys that order
// colliding names.
type named struct {
	id         Identity
	container  string
	startTicks uint64
	pid        int
}

// dedupe returns the final service names, index for index: processes that share a
// (service, container) pair are told apart deterministically, in the order of pm2 id, then
// start time, then pid; the first keeps the name and the others get "#2", "#3"... So the
// series of N identical workers are bounded by N whatever they restart.
func dedupe(list []named) []string {
	out := make([]string, len(list))
	groups := map[[2]string][]int{}
	for i, n := range list {
		k := [2]string{n.id.Service, n.container}
		groups[k] = append(groups[k], i)
	}
	for _, idx := range groups {
		sort.Slice(idx, func(a, b int) bool {
			x, y := list[idx[a]], list[idx[b]]
			if x.id.PM2ID != y.id.PM2ID {
				return x.id.PM2ID < y.id.PM2ID
			}
			if x.startTicks != y.startTicks {
				return x.startTicks < y.startTicks
			}
			return x.pid < y.pid
		})
		for rank, i := range idx {
			out[i] = list[i].id.Service
			if rank > 0 {
				out[i] = fmt.Sprintf("%s#%d", list[i].id.Service, rank+1)
			}
		}
	}
	return out
}
