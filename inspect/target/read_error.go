package target

import (
	"errors"
	"fmt"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/probes"
)

// ClassifyReadError turns the failure to read a process's stat into a sentinel error.
func ClassifyReadError(pid int, err error) error {
	switch {
	case probes.IsGone(err):
		return fmt.Errorf("process %d: %w", pid, model.ErrNoProcess)
	case probes.IsDenied(err):
		return fmt.Errorf("process %d: %w: %v", pid, model.ErrPermission, err)
	case errors.Is(err, probes.ErrMalformed):
		return fmt.Errorf("process %d: %w", pid, err)
	}
	return fmt.Errorf("process %d: %w", pid, err)
}
