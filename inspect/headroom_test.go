package inspect

import "testing"

func TestHeadroomFits(t *testing.T) {
	if !(Headroom{HeapUsedBytes: 10, AvailableBytes: 10}).Fits() || (Headroom{HeapUsedBytes: 11, AvailableBytes: 10}).Fits() {
		t.Error("Fits is not heap used <= available")
	}
}
