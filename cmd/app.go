package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/nodeinspect/nodeinspect/inspect"
)

// Run runs the command line args (args[0] is the program name) and returns the exit code.
// It never panics: a panic is reported as an internal error (exit 70).
func Run(ctx context.Context, args []string, deps Deps) (code int) {
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			fmt.Fprintln(deps.Err, message(err, ExitInternal))
			code = ExitInternal
		}
	}()
	deps = deps.withDefaults()
	root := newRoot(deps)
	args, err := canonicalArgs(root, args)
	if err == nil {
		err = root.Run(ctx, args)
	}
	code = exitCode(err)
	if interrupted(ctx) && code != ExitUnconfirmed && !(err == nil && len(args) > 1 && signalEndsNormally[args[1]]) {
		// Everything was cleaned up on the way out; an exit 6 (something left open)
		// says more than the interruption.
		code = ExitInterrupted
		if err == nil {
			err = errors.New("interrupted (everything nodeinspect opened was closed)")
		}
	}
	if err != nil {
		fmt.Fprintln(deps.Err, message(err, code))
	}
	return code
}

// signalEndsNormally names the commands a signal ends as designed: an exporter is stopped
// by SIGTERM (systemd, Kubernetes), which is a clean exit 0, not an interruption.
var signalEndsNormally = map[string]bool{"serve": true}

// newRoot builds the command tree.
func newRoot(deps Deps) *cli.Command {
	pidCommands := []*cli.Command{
		newSnapshotCommand(deps, "report", "everything about one process, with findings", "report", inspect.SectionAll),
		newSnapshotCommand(deps, "fds", "the fd table: number, type, target, socket state and endpoints", "fds", inspect.SectionLimits|inspect.SectionFDs),
		newSnapshotCommand(deps, "sockets", "sockets by state and by peer; CLOSE_WAIT first", "sockets", inspect.SectionLimits|inspect.SectionFDs),
		newSnapshotCommand(deps, "mem", "RSS, PSS, anon/file/swap, peak", "mem", inspect.SectionMemory),
		newSnapshotCommand(deps, "tree", "the child process tree with states; zombies and orphans marked", "tree", inspect.SectionTree),
	}
	root := &cli.Command{
		Name:      "nodeinspect",
		Usage:     "say what is wrong with a running Node.js process, from the outside",
		UsageText: "nodeinspect <pid> [flags]\nnodeinspect <command> [<pid>] [flags]",
		Commands: append(pidCommands, newPSCommand(deps), newWatchCommand(deps), newSnapshotFileCommand(deps), newDiffCommand(deps), newAnalyzeCommand(deps), newVersionCommand(deps), newDetachCommand(deps),
			newStackCommand(deps),
			newProfileCommand(deps), newHeapCommand(deps), newArmCommand(deps),
		),
		Writer:    deps.Out,
		ErrWriter: deps.Err,
		// A bare `nodeinspect <pid>` was made `nodeinspect report <pid>` by canonicalArgs.
		Action: func(ctx context.Context, c *cli.Command) error {
			if c.NArg() == 0 {
				return usageError("give a pid (`nodeinspect <pid>`) or a command (`nodeinspect ps`)")
			}
			return usageError("unknown command %q", c.Args().First())
		},
		OnUsageError:          onUsageError,
		ExitErrHandler:        func(context.Context, *cli.Command, error) {},
		EnableShellCompletion: false,
		HideHelpCommand:       true,
	}
	root.Commands = append(root.Commands, newCompletionCommand(deps), newCompleteCommand(deps))
	root.Commands = append(root.Commands, newServeCommand(deps), newTopCommand(deps))
	for _, c := range root.Commands {
		c.OnUsageError = onUsageError
	}
	addValidators(root)
	addHelp(root)
	return root
}

// onUsageError turns the CLI library's flag errors into one-line usage errors (exit 2)
// instead of a help page.
func onUsageError(_ context.Context, _ *cli.Command, err error, _ bool) error {
	msg := strings.TrimPrefix(err.Error(), "Incorrect Usage: ")
	// `invalid value "NaN" for flag -emfile-warning: --emfile-warning must be a number`:
	// the library's prefix names the flag with one dash; the reason (ours, or strconv's)
	// follows it.
	if m := invalidValue.FindStringSubmatch(msg); m != nil {
		if strings.HasPrefix(m[3], dashes(m[2])) {
			msg = m[3]
		} else {
			msg = fmt.Sprintf("%s %q: %s", dashes(m[2]), m[1], m[3])
		}
	}
	return &ExitError{Code: ExitUsage, Err: errors.New(msg)}
}

// invalidValue matches the CLI library's error for a flag value that did not parse or
// validate.
var invalidValue = regexp.MustCompile(`^invalid value "(.*)" for flag -([^:]+): (.*)$`)

// pidArg reads the single pid argument of a per-process command.
func pidArg(c *cli.Command) (int, error) {
	switch c.NArg() {
	case 0:
		return 0, usageError("%s needs a pid", c.Name)
	case 1:
		return parsePid(c.Args().First())
	}
	return 0, usageError("%s takes one pid, got %d arguments: %s", c.Name, c.NArg(), strings.Join(c.Args().Slice(), " "))
}

// writeOnce writes a rendered buffer to w in one call.
func writeOnce(deps Deps, buf *bytes.Buffer) error {
	if _, err := deps.Out.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// printWarnings writes each warning as one line on stderr.
func printWarnings(deps Deps, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintln(deps.Err, "nodeinspect: warning: "+w)
	}
}
