package model

import (
	"fmt"
	"time"
)

// StackDoc is the `stack` command's document (`nodeinspect stack --json`; the README's
// "Where in the code" section shows it).
type StackDoc struct {
	Schema   string        `json:"schema"`
	TakenAt  time.Time     `json:"taken_at"`
	Process  *Process      `json:"process"`
	Attach   *Attach       `json:"attach"`
	Threads  []StackThread `json:"threads"`
	Warnings []string      `json:"warnings"`
}

// StackThread is the stacks of one thread.
type StackThread struct {
	// Thread is "main" or "worker <id>".
	Thread string `json:"thread"`
	// State is what /proc says the thread was doing: "running", "idle" (waiting in epoll
	// for events), "native" (on CPU where no pause was answered: native code or GC) or
	// "syscall:<name>".
	State string `json:"state"`
	// Note says why there is no stack or what the stacks are ("idle, waiting for events",
	// "paused at start by --inspect-brk, waiting for a debugger; not resumed").
	Note string `json:"note,omitempty"`
	// Samples is how many pauses were asked for; Answered how many were answered.
	Samples  int `json:"samples"`
	Answered int `json:"answered"`
	// Stacks are the distinct stacks, hottest first.
	Stacks []StackSample `json:"stacks"`
}

// StackSample is one distinct stack and how many samples found it.
type StackSample struct {
	Count  int     `json:"count"`
	Frames []Frame `json:"frames"`
}

// Frame is one JavaScript frame, innermost first in a stack.
type Frame struct {
	// Function is the function's name ("(anonymous)" when it has none).
	Function string `json:"function"`
	// URL is the script's path (file scripts), or its URL (node:internal/..., data:).
	URL string `json:"url"`
	// Line and Column are 1-based, in the original source when Mapped.
	Line   int  `json:"line"`
	Column int  `json:"column"`
	Mapped bool `json:"mapped"`
	// Generated is the position in the running script when the frame was mapped.
	Generated *FramePosition `json:"generated,omitempty"`
}

// FramePosition is a position in a script, 1-based.
type FramePosition struct {
	URL    string `json:"url"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// String is "function (url:line)".
func (f Frame) String() string {
	return fmt.Sprintf("%s (%s:%d)", f.Function, f.URL, f.Line)
}
