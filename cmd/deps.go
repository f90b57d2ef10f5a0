// Package cmd is nodeinspect's command line: commands built as constructors over explicit
// dependencies, so tests run the real commands in memory with a fake /proc, a fixed clock
// and a TTY or not.
package cmd

import (
	"io"
	"time"

	"github.com/nodeinspect/nodeinspect/probes"
)

// Deps is everything a command touches outside its arguments.
type Deps struct {
	// Proc is the default proc root (overridden by --proc).
	Proc string
	// In is standard input (analyze -); nil when there is none.
	In io.Reader
	// Out receives the report; Err receives warnings and the error line.
	Out, Err io.Writer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// IsTTY reports whether Out is a terminal (colour and tables) or a pipe (plain).
	IsTTY bool
	// Width is the terminal width in columns, 0 when unknown.
	Width int
	// TermWidth reads the terminal's width again (nil when Out is not a terminal): watch's
	// live view asks it before each frame, so it follows a resize.
	TermWidth func() int
	// Getenv reads the environment (NO_COLOR, the NODEINSPECT_* knobs); nil reads an
	// empty one.
	Getenv func(string) string
	// UserName maps uids to names; nil uses the system's user database.
	UserName func(int) string
}

// withDefaults fills what the caller left unset, once for the whole run (Run calls it), so
// no command checks for nil: Proc is /proc, Now the system clock, and Getenv an empty
// environment (main passes os.Getenv; a test that sets none reads no NO_COLOR or knob).
// UserName stays nil: the collector then uses the system's user database.
func (d Deps) withDefaults() Deps {
	if d.Proc == "" {
		d.Proc = probes.DefaultRoot
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Getenv == nil {
		d.Getenv = func(string) string { return "" }
	}
	return d
}
