package cmd

import (
	"strings"

	"github.com/urfave/cli/v3"
)

// commandHelp is what `nodeinspect help <command>` adds to a command's own flags: two or
// three examples and the exit codes the command can return.
type commandHelp struct {
	examples []string
	exits    []string
}

// exit code lines shared by the commands.
const (
	exitFindings0 = "0  ran; no finding at or above --fail-on (default critical)"
	exitFindings1 = "1  ran; at least one finding at or above --fail-on"
	exitUsage2    = "2  usage error: a bad flag or pid, a flag this command does not have, an unreadable file"
	exitNoProc3   = "3  no such process (or it exited, or its pid was reused, while being read)"
	exitPerm4     = "4  permission denied: nothing useful could be read (the message says what to run)"
	exitNotNode5  = "5  not a Node.js process (--any inspects it anyway)"
	exitBug70     = "70 internal error (a bug: please report it)"
)

// pidExits are the exit codes of a command that reads one process.
var pidExits = []string{exitFindings0, exitFindings1, exitUsage2, exitNoProc3, exitPerm4, exitNotNode5, exitBug70}

// helps holds the examples and exit codes of each command, by name.
var helps = map[string]commandHelp{
	"report": {examples: []string{
		"nodeinspect report 1234                      findings and every section, for a person",
		"nodeinspect report 1234 --json --fail-on warning > report.json   for CI: exit 1 on a warning",
		"nodeinspect 1234 --attach                    also ask the process (heap, handles, listeners)",
	}, exits: pidExits},
	"fds": {examples: []string{
		"nodeinspect fds 1234",
		"nodeinspect fds 1234 --json | jq '.fds.list[] | select(.type == \"tcp\")'",
	}, exits: pidExits},
	"sockets": {examples: []string{
		"nodeinspect sockets 1234",
		"nodeinspect sockets 1234 --close-wait-warning 5 --fail-on warning",
	}, exits: pidExits},
	"mem": {examples: []string{
		"nodeinspect mem 1234",
		"nodeinspect mem 1234 --attach               adds the V8 heap",
	}, exits: pidExits},
	"tree": {examples: []string{
		"nodeinspect tree 1234",
		"nodeinspect tree 1234 --json | jq '.children'",
	}, exits: pidExits},
	"ps": {examples: []string{
		"nodeinspect ps",
		"nodeinspect ps --json --fail-on warning      for a health check: exit 1 if any process has a warning",
		"nodeinspect ps --proc /host/proc             a host's processes from inside a container",
	}, exits: []string{exitFindings0, exitFindings1, exitUsage2, exitPerm4, exitBug70}},
	"watch": {examples: []string{
		"nodeinspect watch 1234                       live view until Ctrl-C",
		"nodeinspect watch 1234 --interval 5s --duration 10m --fail-on warning",
		"nodeinspect watch 1234 --format plain | tee watch.log   one plain line per sample",
	}, exits: []string{"0  ran; no trend finding at or above --fail-on (default critical)", "1  ran; a trend finding (FD_GROWTH, RSS_GROWTH...) at or above --fail-on", exitUsage2, exitNoProc3, exitPerm4, exitNotNode5, exitBug70}},
	"snapshot": {examples: []string{
		"nodeinspect snapshot 1234 -o before.json",
		"nodeinspect snapshot 1234 -o - | gzip > snap.json.gz",
		"nodeinspect snapshot 1234 -o after.json --fail-on critical   also judge, like report",
	}, exits: []string{"0  the snapshot was written (--fail-on defaults to never: snapshot records, diff and report judge)", "1  written, and a finding is at or above the --fail-on given", exitUsage2 + "; the file could not be written", exitNoProc3, exitPerm4, exitNotNode5, exitBug70}},
	"diff": {examples: []string{
		"nodeinspect diff before.json after.json",
		"nodeinspect diff before.json after.json --fail-on warning",
		"nodeinspect diff before.json after.json --format markdown >> \"$GITHUB_STEP_SUMMARY\"",
	}, exits: []string{"0  compared; no growth finding at or above --fail-on (default critical)", "1  compared; a growth finding at or above --fail-on", exitUsage2 + ", not a snapshot", exitBug70}},
	"analyze": {examples: []string{
		"nodeinspect analyze report.20261122.101500.4242.0.001.json",
		"nodeinspect analyze /var/log/app/report.*.json --fail-on warning   several files: the worst exit code wins",
		"kubectl exec pod -- cat /tmp/report.json | nodeinspect analyze -",
	}, exits: []string{"0  no finding at or above --fail-on (default critical) in any file", "1  a finding at or above --fail-on in at least one file", exitUsage2 + ", not a report or snapshot (the worst code of all files wins)", exitBug70}},
	"version": {examples: []string{"nodeinspect version", "nodeinspect version --json"}, exits: []string{"0  printed", exitUsage2}},
	"completion": {examples: []string{
		"source <(nodeinspect completion bash)        in ~/.bashrc",
		"nodeinspect completion zsh > \"${fpath[1]}/_nodeinspect\"",
		"nodeinspect completion fish > ~/.config/fish/completions/nodeinspect.fish",
	}, exits: []string{"0  printed the script", exitUsage2 + " (a shell other than bash, zsh, fish)"}},
}

// commandHelpTemplate is the help of one command: its own flags only (the root has none),
// then its examples and exit codes.
const commandHelpTemplate = `NAME:
   {{template "helpNameTemplate" .}}

USAGE:
   {{template "usageTemplate" .}}
   (flags may come before the command, after it, or after the arguments){{if .Description}}

DESCRIPTION:
   {{template "descriptionTemplate" .}}{{end}}{{if .VisibleFlags}}

OPTIONS:{{template "visibleFlagTemplate" .}}{{end}}{{with index .Metadata "examples"}}

EXAMPLES:
{{.}}{{end}}{{with index .Metadata "exits"}}

EXIT CODES:
{{.}}{{end}}
`

// rootHelpTemplate is `nodeinspect help`: the commands and where to read more.
const rootHelpTemplate = `NAME:
   {{template "helpNameTemplate" .}}

USAGE:
   {{wrap .UsageText 3}}

COMMANDS:{{template "visibleCommandTemplate" .}}
   help [command]  this help, or a command's flags, examples and exit codes

Flags may come before the command, after it, or after the pid: ` + "`nodeinspect --json report 1234`" + `,
` + "`nodeinspect report --json 1234` and `nodeinspect report 1234 --json`" + ` are the same. A flag the
command does not have is an error (exit 2) that names it.

EXIT CODES:
   0 ran, nothing at or above --fail-on; 1 a finding at or above --fail-on; 2 usage error;
   3 no such process; 4 permission denied; 5 not a Node.js process; 70 internal error.
   ` + "`nodeinspect help <command>`" + ` lists a command's own.
`

// addHelp gives every command its help page: its own flags, examples and exit codes.
func addHelp(root *cli.Command) {
	root.CustomRootCommandHelpTemplate = rootHelpTemplate
	for _, c := range root.Commands {
		h, ok := helps[c.Name]
		if !ok {
			continue
		}
		c.CustomHelpTemplate = commandHelpTemplate
		if c.Metadata == nil {
			c.Metadata = map[string]any{}
		}
		c.Metadata["examples"] = "   " + strings.Join(h.examples, "\n   ")
		c.Metadata["exits"] = "   " + strings.Join(h.exits, "\n   ")
	}
}
