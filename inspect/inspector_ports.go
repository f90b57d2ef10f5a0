package inspect

import (
	"strconv"
	"strings"
)

// DefaultInspectorPort is where Node's inspector listens unless told otherwise, including
// when it is opened by SIGUSR1 (node --help: --inspect-port default 9229).
const DefaultInspectorPort = 9229

// nodeFlagsWithValue are Node options that take their value as the next argument.
var nodeFlagsWithValue = map[string]bool{
	"-r": true, "--require": true, "--import": true, "--loader": true, "--experimental-loader": true,
	"-C": true, "--conditions": true, "--title": true, "--input-type": true, "--env-file": true,
	"--inspect-port": true, "--debug-port": true, "--stack-size": true, "--max-old-space-size": true,
}

// InspectorPorts returns the ports Node's inspector may listen on, given the process's
// command line and its NODE_OPTIONS: the ports of --inspect*, --inspect-port and
// --debug-port options, and the default 9229 (where SIGUSR1 opens it when no port was
// set). Port 0 (a random port) cannot be named and is left out. Only options before the
// script name count: later arguments belong to the script.
func InspectorPorts(cmdline []string, nodeOptions string) []int {
	ports := []int{}
	add := func(p int) {
		if p > 0 && p < 65536 && !containsInt(ports, p) {
			ports = append(ports, p)
		}
	}
	explicitPort := false
	scan := func(args []string) {
		for i := 0; i < len(args); i++ {
			a := args[i]
			if a == "--" || !strings.HasPrefix(a, "-") {
				return
			}
			name, value, hasValue := strings.Cut(a, "=")
			switch name {
			case "-e", "--eval", "-p", "--print":
				return
			case "--inspect", "--inspect-brk", "--inspect-wait", "--debug", "--debug-brk":
				if hasValue {
					if p, ok := parseInspectPort(value); ok {
						add(p)
						explicitPort = true
					}
				}
			case "--inspect-port", "--debug-port":
				if !hasValue && i+1 < len(args) {
					value, hasValue = args[i+1], true
					i++
				}
				if p, ok := parseInspectPort(value); ok {
					add(p)
					explicitPort = true
				}
			default:
				if !hasValue && nodeFlagsWithValue[name] {
					i++
				}
			}
		}
	}
	scan(strings.Fields(nodeOptions))
	if len(cmdline) > 1 {
		scan(cmdline[1:])
	}
	if !explicitPort {
		add(DefaultInspectorPort)
	}
	return ports
}

// parseInspectPort reads the port of an --inspect value: "9230", "host:9230", "[::]:9230".
// A bare host ("0.0.0.0") keeps the default port.
func parseInspectPort(v string) (int, bool) {
	if p, err := strconv.Atoi(v); err == nil {
		return p, true
	}
	i := strings.LastIndexByte(v, ':')
	if i < 0 || strings.HasSuffix(v, "]") {
		return DefaultInspectorPort, true
	}
	p, err := strconv.Atoi(v[i+1:])
	if err != nil {
		return DefaultInspectorPort, true
	}
	return p, true
}
