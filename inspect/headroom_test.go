package inspect

import (
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
)

func TestHeadroomFits(t *testing.T) {
	if !(model.Headroom{HeapUsedBytes: 10, AvailableBytes: 10}).Fits() || (model.Headroom{HeapUsedBytes: 11, AvailableBytes: 10}).Fits() {
		t.Error("Fits is not heap used <= available")
	}
}
