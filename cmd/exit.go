package cmd

import (
	"errors"
	"fmt"

	"github.com/nodeinspect/nodeinspect/inspect"
)

// Exit codes of ../shared/CONTRACT.md, decided here and nowhere else.
const (
	ExitOK         = 0
	ExitFindings   = 1
	ExitUsage      = 2
	ExitNoProcess  = 3
	ExitPermission = 4
	ExitNotNode    = 5
	ExitInternal   = 70
)

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
	case errors.Is(err, inspect.ErrNoProcess):
		return ExitNoProcess
	case errors.Is(err, inspect.ErrPermission):
		return ExitPermission
	case errors.Is(err, inspect.ErrNotNode):
		return ExitNotNode
	case errors.Is(err, inspect.ErrAttachRefused):
		return ExitUsage
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
	if h := hint(code); h != "" && !errors.Is(err, inspect.ErrAttachRefused) {
		msg += " (" + h + ")"
	}
	return msg
}
