package inspectorsock

import (
	"slices"
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

// Ports returns the ports Node's inspector may listen on, given the process's
// command line and its NODE_OPTIONS: the ports of --inspect*, --inspect-port and
// --debug-port options, and the default 9229 (where SIGUSR1 opens it when no port was
// set). Port 0 (a random port) cannot be named and is left out (Settings says the
// inspector is configured; inspectorsock.ByEpoll finds its socket). Only options before the
// script name count: later arguments belong to the script.
func Ports(cmdline []string, nodeOptions string) []int {
	return Settings(cmdline, nodeOptions).Ports
}

// Config is what a process's command line and NODE_OPTIONS say about its
// inspector.
type Config struct {
	// Ports are the ports it may listen on (see Ports).
	Ports []int
	// Configured is true when any inspector option is present (--inspect, --inspect-brk,
	// --inspect-wait, --inspect-port, --debug-port, ...), random port included.
	Configured bool
	// Hosts are the hosts named in those options ("127.0.0.1", "0.0.0.0", "[::]"); empty
	// when none was named, which means Node's default, 127.0.0.1.
	Hosts []string
}

// Settings reads the inspector options of a command line and NODE_OPTIONS.
func Settings(cmdline []string, nodeOptions string) Config {
	cfg := Config{Ports: []int{}}
	add := func(p int) {
		if p > 0 && p < 65536 && !slices.Contains(cfg.Ports, p) {
			cfg.Ports = append(cfg.Ports, p)
		}
	}
	addHost := func(value string) {
		if h, ok := inspectHost(value); ok {
			for _, x := range cfg.Hosts {
				if x == h {
					return
				}
			}
			cfg.Hosts = append(cfg.Hosts, h)
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
				cfg.Configured = true
				if hasValue {
					addHost(value)
					if p, ok := parseInspectPort(value); ok {
						add(p)
						explicitPort = true
					}
				}
			case "--inspect-port", "--debug-port":
				cfg.Configured = true
				if !hasValue && i+1 < len(args) {
					value, hasValue = args[i+1], true
					i++
				}
				addHost(value)
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
	return cfg
}

// inspectHost returns the host of an --inspect value ("0.0.0.0:0" → "0.0.0.0",
// "[::1]:9229" → "::1", "localhost" → "localhost"); false for a bare port.
func inspectHost(v string) (string, bool) {
	if v == "" {
		return "", false
	}
	if _, err := strconv.Atoi(v); err == nil {
		return "", false
	}
	host := v
	if strings.HasPrefix(v, "[") {
		if i := strings.IndexByte(v, ']'); i > 0 {
			host = v[1:i]
		}
	} else if i := strings.LastIndexByte(v, ':'); i >= 0 {
		host = v[:i]
	}
	return host, host != ""
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
