// Command nodeinspect looks at a running Node.js process from the outside and says what is
// wrong with it: leaked handles, CLOSE_WAIT sockets, the fd limit, zombies and orphans,
// memory, and a blocked event loop. See README.md.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"golang.org/x/term"

	"github.com/nodeinspect/nodeinspect/cmd"
)

func main() {
	tuneGC()
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
