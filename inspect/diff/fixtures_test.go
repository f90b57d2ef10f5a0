package diff

import "github.com/nodeinspect/nodeinspect/internal/snapfix"

func u64(v uint64) *uint64 { return &v }

// The shared snapshot fixtures (internal/snapfix).
var (
	fdSnapshot = snapfix.FDSnapshot
	tcp        = snapfix.TCP
	codes      = snapfix.Codes
)
