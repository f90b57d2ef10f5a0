package model

import (
	"errors"
	"fmt"
)

// Sentinel errors that decide the exit code. Each is wrapped with the pid and the path or
// reason, so the message a user sees says what happened.
var (
	// ErrNoProcess: the pid does not exist, or the process exited (or was replaced by a new
	// process with the same pid) before it could be read.
	ErrNoProcess = errors.New("no such process")
	// ErrPermission: nothing useful could be read without more privilege.
	ErrPermission = errors.New("permission denied")
	// ErrNotNode: the process is not a Node.js process (and --any was not given).
	ErrNotNode = errors.New("not a Node.js process")
	// ErrAttachRefused: --attach was asked for a process that SIGUSR1 could kill or that
	// cannot be attached to safely; nothing was sent.
	ErrAttachRefused = errors.New("attach refused")
)

// PidReusedError reports that a pid now names a different process than the one first read.
type PidReusedError struct {
	PID                  int
	StartTicks, NowTicks uint64
}

func (e *PidReusedError) Error() string {
	return fmt.Sprintf("process %d exited and its pid was reused while being read (start time %d, now %d)", e.PID, e.StartTicks, e.NowTicks)
}

// Unwrap makes a reused pid count as a vanished process.
func (e *PidReusedError) Unwrap() error { return ErrNoProcess }
