package cmd

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v3"
)

// completeCommand is the hidden command the shell completion scripts call; its words are
// passed through untouched (they are what the user is typing, flags included).
const completeCommand = "__complete"

// canonicalArgs puts a command line into the one shape the CLI library parses without
// surprises: the command name first, then every flag the user gave (before the command,
// after it, or after the pid), then "--" and the positional arguments.
//
//	nodeinspect --fail-on warning report 1234 --json
//	nodeinspect report --fail-on warning --json -- 1234
//
// A bare pid is `report <pid>`. Every flag is checked against the command's own flag set
// before anything runs, so a flag that cannot apply to the command is a usage error that
// names it, never silently dropped (a flag of the root command would otherwise be shadowed
// by the subcommand's flag of the same name and its value lost, as it was).
func canonicalArgs(root *cli.Command, args []string) ([]string, error) {
	if len(args) == 0 {
		return args, nil
	}
	prog, rest := args[0], args[1:]
	if len(rest) > 0 && rest[0] == completeCommand {
		return args, nil
	}
	known := knownFlags(root)
	var lead []string
	i := 0
	for ; i < len(rest); i++ {
		a := rest[i]
		if a == "--" || !isFlagToken(a) {
			break
		}
		name, hasValue := flagName(a)
		takesValue, ok := known[name]
		if !ok && !isHelpFlag(name) {
			return nil, usageError("unknown flag %s", dashes(name))
		}
		lead = append(lead, a)
		if takesValue && !hasValue {
			if i+1 >= len(rest) {
				return nil, usageError("flag %s needs a value", dashes(name))
			}
			i++
			lead = append(lead, rest[i])
		}
	}
	if i < len(rest) && rest[i] == "--" {
		i++
	}
	if i >= len(rest) {
		if slices.ContainsFunc(lead, func(a string) bool { n, _ := flagName(a); return isHelpFlag(n) }) {
			return []string{prog, "--help"}, nil
		}
		if len(lead) > 0 {
			return nil, usageError("%s: give a command or a pid too, e.g. `nodeinspect report <pid> %s`", strings.Join(lead, " "), strings.Join(lead, " "))
		}
		return []string{prog}, nil
	}
	name := rest[i]
	if name == "help" {
		switch topic := rest[i+1:]; {
		case len(topic) == 0:
			return []string{prog, "--help"}, nil
		case len(topic) > 1 || findCommand(root, topic[0]) == nil || findCommand(root, topic[0]).Hidden:
			return nil, usageError("no help for %q: give one command (`nodeinspect help` lists them)", strings.Join(topic, " "))
		default:
			return []string{prog, topic[0], "--help"}, nil
		}
	}
	c := findCommand(root, name)
	tail := rest[i+1:]
	if c == nil {
		if !looksLikePid(name) {
			return nil, usageError("unknown command %q", name)
		}
		// Bare `nodeinspect <pid>` is `nodeinspect report <pid>`.
		c, tail = findCommand(root, "report"), rest[i:]
	}
	var flags, pos []string
	tail = append(lead, tail...)
	for j := 0; j < len(tail); j++ {
		a := tail[j]
		if a == "--" {
			pos = append(pos, tail[j+1:]...)
			break
		}
		if !isFlagToken(a) {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name, hasValue := flagName(a)
		if isHelpFlag(name) {
			// The command's help, whatever else was given.
			return []string{prog, c.Name, "--help"}, nil
		}
		f := lookupFlag(c, name)
		if f == nil {
			return nil, notApplicable(root, c, name)
		}
		if takesValue(f) && !hasValue {
			if j+1 >= len(tail) {
				return nil, usageError("flag %s needs a value", dashes(name))
			}
			j++
			flags = append(flags, tail[j])
		}
	}
	out := append([]string{prog, c.Name}, flags...)
	out = append(out, "--")
	return append(out, pos...), nil
}

// notApplicable is the usage error for a flag that c does not have.
func notApplicable(root, c *cli.Command, name string) error {
	var owners []string
	for _, o := range root.Commands {
		if o.Hidden || o == c {
			continue
		}
		if lookupFlag(o, name) != nil {
			owners = append(owners, o.Name)
		}
	}
	if len(owners) == 0 {
		return usageError("unknown flag %s for %s", dashes(name), c.Name)
	}
	return usageError("flag %s does not apply to %s (it is a flag of %s)", dashes(name), c.Name, strings.Join(owners, ", "))
}

// knownFlags maps every flag name of every command to whether it takes a value.
func knownFlags(root *cli.Command) map[string]bool {
	m := map[string]bool{}
	for _, c := range root.Commands {
		for _, f := range c.Flags {
			for _, n := range f.Names() {
				m[n] = takesValue(f)
			}
		}
	}
	return m
}

// findCommand returns root's command called name (or by an alias), nil if none.
func findCommand(root *cli.Command, name string) *cli.Command {
	for _, c := range root.Commands {
		if c.Name == name || slices.Contains(c.Aliases, name) {
			return c
		}
	}
	return nil
}

// lookupFlag returns c's own flag called name, nil if none.
func lookupFlag(c *cli.Command, name string) cli.Flag {
	for _, f := range c.Flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

// takesValue reports whether a flag reads the next argument as its value (every flag but a
// boolean one).
func takesValue(f cli.Flag) bool {
	if f == nil {
		return false
	}
	if v, ok := f.(interface{ TakesValue() bool }); ok {
		return v.TakesValue()
	}
	return true
}

// isFlagToken reports whether an argument is a flag the way the CLI library reads one: a
// dash and a letter, or two dashes and a name. "-" (stdin) and "-5" (a bad pid) are not.
func isFlagToken(a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	s := a[1:]
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	c := s[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// flagName returns the name of a flag argument without dashes, and whether it carries its
// value after "=".
func flagName(a string) (string, bool) {
	a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	name, _, hasValue := strings.Cut(a, "=")
	return name, hasValue
}

// dashes writes a flag name the way the help shows it.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// isHelpFlag reports whether name is the help flag every command has.
func isHelpFlag(name string) bool { return name == "help" || name == "h" }
