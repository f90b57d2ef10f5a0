package growth

import (
	"fmt"

	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

// HeapLimit is what HEAP_GROWTH's time to out-of-memory runs to, for watch and diff alike:
// the share of the old generation's limit where V8 may end the process, when the limit is
// known; else V8's heap limit, which includes the young generation's reserve and so
// predicts the OOM too late. nil when neither is known.
func HeapLimit(oldSpaceLimit, heapLimit *uint64) (limit *float64, name string) {
	if oldSpaceLimit != nil && *oldSpaceLimit > 0 {
		oomAt := float64(*oldSpaceLimit) * rules.IneffectiveGCShare
		return &oomAt, fmt.Sprintf("out of memory (%.0f%% of the old generation's limit, where V8 may end the process)", rules.IneffectiveGCShare*100)
	}
	if heapLimit != nil && *heapLimit > 0 {
		v := float64(*heapLimit)
		return &v, "the heap limit (out of memory)"
	}
	return nil, ""
}

// CloseWaitTarget is the count of CLOSE_WAIT sockets at which the process hits EMFILE: all
// its fds are used when the sockets have grown by the headroom left under the fd limit
// (fdLimit − openFDs). Without the open count it is the fd limit itself.
func CloseWaitTarget(closeWait, fdLimit float64, openFDs *float64) float64 {
	if openFDs == nil {
		return fdLimit
	}
	return closeWait + (fdLimit - *openFDs)
}
