// Command nodeinspect looks at a running Node.js process from the outside and says what is
// wrong with it: leaked handles, CLOSE_WAIT sockets, the fd limit, zombies and orphans,
// memory, and a blocked event loop. See README.md.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/nodeinspect/nodeinspect/cmd"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// run wires the real world (stdout, the terminal, signals) into the command line.
func run(args []string, _ io.Reader, stdout, stderr *os.File) int {
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
		Out:       stdout,
		Err:       stderr,
		IsTTY:     tty,
		Width:     width,
		TermWidth: termWidth,
		Getenv:    os.Getenv,
	})
}
