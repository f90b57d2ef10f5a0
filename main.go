// Command nodeinspect looks at a running Node.js process from the outside and says what is
// wrong with it: leaked handles, CLOSE_WAIT sockets, the fd limit, zombies and orphans,
// memory, and a blocked event loop. See README.md.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"golang.org/x/term"

	"github.com/nodeinspect/nodeinspect/cmd"
	"github.com/nodeinspect/nodeinspect/inspect/closer"
)

func main() {
	tuneGC()
	if len(os.Args) > 1 && os.Args[1] == closer.CloserCommand {
		os.Exit(runCloser(os.Args[2:]))
	}
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// runCloser is the hidden `nodeinspect __closer SPEC` mode an attach starts before its
// signal (closer.Run): SPEC is JSON; fd 3 is the attach's end of a pipe, fd 4 a socketpair its session sockets come on.
func runCloser(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "nodeinspect: __closer is internal to --attach")
		return cmd.ExitUsage
	}
	var spec closer.Spec
	if err := json.Unmarshal([]byte(args[0]), &spec); err != nil || spec.PID <= 0 {
		fmt.Fprintf(os.Stderr, "nodeinspect: __closer: bad spec: %v\n", err)
		return cmd.ExitUsage
	}
	control := os.NewFile(3, "control")
	if control == nil {
		control, _ = os.Open(os.DevNull)
	}
	return closer.Run(spec, control, os.NewFile(closer.SessionSocketsFD, "sessions"))
}

// tuneGC trades a little memory for time: a run lives a fraction of a second and allocates
// per fd, so the default GC (GOGC=100) collects several times over a large table for
// nothing. GOGC=400 with a 48 MiB soft memory limit collects rarely, and as often as
// needed near the limit, which keeps the peak under 64 MiB at 100k fds. GOGC or
// GOMEMLIMIT in the environment win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(48 << 20)
	}
}

// run wires the real world (stdout, the terminal, signals) into the command line.
func run(args []string, stdin io.Reader, stdout, stderr *os.File) int {
	ctx, stop := interruptContext()
	defer stop()
	tty := term.IsTerminal(int(stdout.Fd()))
	var termWidth func() int
	width := 0
	if tty {
		termWidth = func() int {
			w, _, err := term.GetSize(int(stdout.Fd()))
			if err != nil {
				return 0
			}
			return w
		}
		width = termWidth()
	}
	return cmd.Run(ctx, args, cmd.Deps{
		In:        stdin,
		Out:       stdout,
		Err:       stderr,
		IsTTY:     tty,
		Width:     width,
		TermWidth: termWidth,
		Getenv:    os.Getenv,
	})
}

// interruptContext is cancelled, with cmd.ErrInterrupted as its cause, by the first of
// SIGINT (Ctrl-C), SIGTERM, SIGHUP (the terminal went away) and SIGQUIT (Ctrl-\\): each
// ends the run the same way, through its cleanup, and exits 130. Go would otherwise die on
// SIGHUP without cleaning up, and dump goroutines on SIGQUIT. SIGPIPE is ignored instead of
// notified (a notified SIGPIPE would also come from any socket write, e.g. to an inspector
// that closed): a reader of stdout that went away (| head) makes the next write fail with
// EPIPE, which ends the run through the same cleanup, also with 130. A second signal is
// delivered to the channel and ignored: cleanup has its own time limits.
func interruptContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			cancel(fmt.Errorf("%w by %v", cmd.ErrInterrupted, s))
		case <-done:
		}
	}()
	return ctx, func() {
		close(done)
		cancel(nil)
	}
}
