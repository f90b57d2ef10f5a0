package answer

import (
	"time"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/probes"
)

// Into is where what the process answered goes: the snapshot of one process, and its
// warnings.
type Into struct {
	// FS and PID name the process the answer came from.
	FS  probes.FS
	PID int
	// Snap is the snapshot the answer is added to.
	Snap *model.Snapshot
	// Warn adds a warning (the collection's: it still reaches the user after the first
	// frame was printed).
	Warn func(format string, args ...any)
	// Sample is the loop sample's window, which bounds the delay measured after the query.
	Sample time.Duration
	// NodeOptions returns the target's NODE_OPTIONS ("" when unset or unreadable).
	NodeOptions func() string
}
