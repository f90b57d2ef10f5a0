// Package cmd is nodeinspect's command line: commands built as constructors over explicit
// dependencies, so tests run the real commands in memory with a fake /proc, a fixed clock
// and a TTY or not.
package cmd

import (
	"io"
	"time"
)

// Deps is everything a command touches outside its arguments.
type Deps struct {
	// Proc is the default proc root (overridden by --proc).
	Proc string
	// In is standard input (analyze -); nil when there is none.
	In io.Reader
	// Out receives the report; Err receives warnings and the error line.
	Out, Err io.Writer
	// Now is the clock.
	Now func() time.Time
	// IsTTY reports whether Out is a terminal (colour and tables) or a pipe (plain).
	IsTTY bool
	// Width is the terminal width in columns, 0 when unknown.
	Width int
	// TermWidth reads the terminal's width again (nil when Out is not a terminal): watch's
	// live view asks it before each frame, so it follows a resize.
	TermWidth func() int
	// Getenv reads the environment (NO_COLOR).
	Getenv func(string) string
	// UserName maps uids to names; nil uses the system's user database.
	UserName func(int) string
}

// timeNow is the clock when Deps.Now is not set.
var timeNow = time.Now
