package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/probes"
)

// Markers a completion answer starts with when the shell should complete a path itself.
const (
	completeFile = ":file"
	completeDir  = ":dir"
)

// The scripts are small: each asks the binary the user typed (`__complete` with the words
// so far) and hands its answer to the shell, so the flags, commands and values offered are
// always those of that binary.
const bashCompletion = `# bash completion for nodeinspect: source <(nodeinspect completion bash)
_nodeinspect() {
    local cur="${COMP_WORDS[COMP_CWORD]}" out IFS=$'\n'
    out=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
    case "$out" in
    :file) COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return 0 ;;
    :dir) COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null; return 0 ;;
    esac
    COMPREPLY=($(compgen -W "$out" -- "$cur"))
}
complete -F _nodeinspect nodeinspect
`

const zshCompletion = `#compdef nodeinspect
# zsh completion for nodeinspect: nodeinspect completion zsh > "${fpath[1]}/_nodeinspect"
_nodeinspect() {
    local out
    local -a candidates
    out=$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
    case $out in
    :file) _files; return ;;
    :dir) _files -/; return ;;
    esac
    candidates=("${(@f)out}")
    compadd -a candidates
}
if [ "$funcstack[1]" = "_nodeinspect" ]; then
    _nodeinspect "$@"
else
    compdef _nodeinspect nodeinspect
fi
`

const fishCompletion = `# fish completion for nodeinspect: nodeinspect completion fish > ~/.config/fish/completions/nodeinspect.fish
function __nodeinspect_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out ($words[1] __complete $words[2..-1] 2>/dev/null)
    switch "$out[1]"
        case ':file'
            __fish_complete_path (commandline -ct)
        case ':dir'
            __fish_complete_directories (commandline -ct)
        case '*'
            printf '%s\n' $out
    end
end
complete -c nodeinspect -f -a '(__nodeinspect_complete)'
`

// newCompletionCommand prints a shell completion script.
func newCompletionCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Action: func(ctx context.Context, c *cli.Command) error {
			scripts := map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}
			if c.NArg() != 1 || scripts[c.Args().First()] == "" {
				return usageError("completion takes one shell: bash, zsh or fish")
			}
			_, err := fmt.Fprint(deps.Out, scripts[c.Args().First()])
			return err
		},
	}
}

// newCompleteCommand is the hidden command the scripts call: its arguments are the words
// after the program name, the last one the word being completed (maybe empty). It prints
// the candidates, one a line, or a marker asking the shell for a file or directory name.
func newCompleteCommand(deps Deps) *cli.Command {
	return &cli.Command{
		Name:            completeCommand,
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(ctx context.Context, c *cli.Command) error {
			words := c.Args().Slice()
			if len(words) == 0 {
				words = []string{""}
			}
			for _, w := range complete(c.Root(), deps.Proc, words) {
				fmt.Fprintln(deps.Out, w)
			}
			return nil
		},
	}
}

// complete returns the candidates for the last of words.
func complete(root *cli.Command, proc string, words []string) []string {
	cur, before := words[len(words)-1], words[:len(words)-1]
	var c *cli.Command
	npos := 0 // positional arguments of c seen
	helpTopic := false
	for j := 0; j < len(before); j++ {
		w := before[j]
		if isFlagToken(w) {
			name, hasValue := flagName(w)
			f := lookupAny(root, c, name)
			if takesValue(f) && !hasValue {
				if j == len(before)-1 {
					return flagValues(name, cur)
				}
				j++
			}
			continue
		}
		switch {
		case c == nil && !helpTopic && w == "help":
			helpTopic = true
		case c == nil && !helpTopic && findCommand(root, w) != nil:
			c = findCommand(root, w)
		case c == nil && !helpTopic && looksLikePid(w):
			c, npos = findCommand(root, "report"), 1
		default:
			npos++
		}
	}
	if strings.HasPrefix(cur, "-") {
		var names []string
		var flags []cli.Flag
		if c != nil {
			flags = c.Flags
		} else {
			for _, o := range root.Commands {
				flags = append(flags, o.Flags...)
			}
		}
		for _, f := range flags {
			for _, n := range f.Names() {
				if d := dashes(n); strings.HasPrefix(d, cur) && !slices.Contains(names, d) {
					names = append(names, d)
				}
			}
		}
		if strings.HasPrefix("--help", cur) {
			names = append(names, "--help")
		}
		return names
	}
	if helpTopic || c == nil {
		var names []string
		for _, o := range root.Commands {
			if !o.Hidden && strings.HasPrefix(o.Name, cur) {
				names = append(names, o.Name)
			}
		}
		if c == nil && !helpTopic {
			if strings.HasPrefix("help", cur) {
				names = append(names, "help")
			}
			if cur != "" && looksLikePid(cur) {
				names = append(names, nodePids(proc, cur)...)
			}
		}
		if npos > 0 {
			return nil
		}
		return names
	}
	switch c.Name {
	case "ps", "version", "serve", "top":
		return nil
	case "diff", "analyze":
		return []string{completeFile}
	case "completion":
		if npos == 0 {
			return prefixed([]string{"bash", "zsh", "fish"}, cur)
		}
		return nil
	}
	if lookupFlag(c, "attach") != nil || lookupFlag(c, "sample") != nil || lookupFlag(c, "interval") != nil {
		if npos == 0 {
			return nodePids(proc, cur)
		}
	}
	return nil
}

// lookupAny finds a flag of c, or of any command when c is not known yet.
func lookupAny(root, c *cli.Command, name string) cli.Flag {
	if c != nil {
		return lookupFlag(c, name)
	}
	for _, o := range root.Commands {
		if f := lookupFlag(o, name); f != nil {
			return f
		}
	}
	return nil
}

// flagValues are the candidates for the value of the flag called name.
func flagValues(name, cur string) []string {
	switch name {
	case "format":
		return prefixed([]string{"table", "plain", "json", "markdown"}, cur)
	case "fail-on":
		return prefixed([]string{"info", "warning", "critical", "never"}, cur)
	case "output", "o":
		return []string{completeFile}
	case "proc":
		return []string{completeDir}
	}
	return nil
}

// prefixed returns the words that start with prefix.
func prefixed(words []string, prefix string) []string {
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, prefix) {
			out = append(out, w)
		}
	}
	return out
}

// nodePids lists the pids under proc whose executable (or, unreadable, command line) is
// Node.js and that start with prefix: one readlink per process, like ps.
func nodePids(proc, prefix string) []string {
	ents, err := os.ReadDir(proc)
	if err != nil {
		return nil
	}
	fs := probes.NewFS(proc)
	var out []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		exe, err := fs.ReadExe(pid)
		if err != nil {
			args, _ := fs.ReadCmdline(pid)
			if len(args) == 0 {
				continue
			}
			exe = filepath.Base(args[0])
		}
		if probes.IsNodeExe(exe) {
			out = append(out, e.Name())
		}
	}
	return out
}
