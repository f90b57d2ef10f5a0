package cmd

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

// Exit codes of the user contract (README, "Exit codes"), decided here and nowhere else.
const (
	ExitOK         = 0
	ExitFindings   = 1
	ExitUsage      = 2
	ExitNoProcess  = 3
	ExitPermission = 4
	ExitNotNode    = 5
	// ExitUnconfirmed: an attach sent SIGUSR1 (or opened a session) and could not confirm
	// that everything it opened is closed again.
	ExitUnconfirmed = 6
	ExitInternal    = 70
	// ExitInterrupted: interrupted (Ctrl-C / SIGINT, or SIGTERM, SIGHUP, SIGQUIT, SIGPIPE),
	// after cleanup.
	ExitInterrupted = 130
)

// ErrInterrupted is the cause main gives the context it cancels on a signal: the run
// cleans up and exits ExitInterrupted.
var ErrInterrupted = errors.New("interrupted")

// ExitError carries an exit code and the one line printed on stderr.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// usageError returns an ExitUsage error with a formatted message.
func usageError(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// exitCode maps an error to the contract's exit code.
func exitCode(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	case errors.Is(err, model.ErrNoProcess):
		return ExitNoProcess
	case errors.Is(err, model.ErrPermission):
		return ExitPermission
	case errors.Is(err, model.ErrNotNode):
		return ExitNotNode
	case errors.Is(err, model.ErrAttachRefused):
		return ExitUsage
	case errors.Is(err, syscall.EPIPE):
		return ExitInterrupted // the reader went away (SIGPIPE)
	}
	return ExitInternal
}

// hint is the "what to do" half of the one-line message for an exit code.
func hint(code int) string {
	switch code {
	case ExitNoProcess:
		return "check the pid with `nodeinspect ps` or `ps -e`"
	case ExitPermission:
		return "run as the process's user (sudo -u <user> nodeinspect ...) or with sudo (in a container: CAP_SYS_PTRACE)"
	case ExitNotNode:
		return "pass --any to inspect it anyway, or find Node.js processes with `nodeinspect ps`"
	case ExitUsage:
		return "see `nodeinspect help [command]`"
	case ExitInternal:
		return "this is a bug in nodeinspect: please report it with the command you ran and this message"
	}
	return ""
}

// message is the single stderr line for a failed run.
func message(err error, code int) string {
	msg := "nodeinspect: " + err.Error()
	if code == ExitInternal {
		msg = "nodeinspect: internal error: " + err.Error()
	}
	if h := hint(code); h != "" && !errors.Is(err, model.ErrAttachRefused) {
		msg += " (" + h + ")"
	}
	return msg
}

// unconfirmedError is the exit-6 result of an attach that left something it could not
// confirm closed: what is open, until when, how to close it.
func unconfirmedError(pid int, a *model.Attach) error {
	msg := a.LeftOpen
	if msg == "" {
		msg = fmt.Sprintf("SIGUSR1 was sent to process %d and nodeinspect could not confirm that the inspector it opened is closed; close it with: nodeinspect detach %d", pid, pid)
	}
	return &ExitError{Code: ExitUnconfirmed, Err: errors.New(msg)}
}

// interrupted reports whether ctx was cancelled by a signal (main's ErrInterrupted).
func interrupted(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), ErrInterrupted)
}
