package analyze

import "github.com/nodeinspect/nodeinspect/internal/snapfix"

// The shared snapshot fixtures (internal/snapfix).
var (
	fdSnapshot = snapfix.FDSnapshot
	tcp        = snapfix.TCP
	codes      = snapfix.Codes
)

const mib = 1 << 20
