package stack

import "testing"

// TestCheckStackOptions: --samples and --interval out of range are refused before any
// attach.
func TestCheckStackOptions(t *testing.T) {
	if err := CheckOptions(0, 0); err == nil {
		t.Error("--samples 0 accepted")
	}
	if err := CheckOptions(MaxSamples+1, DefaultInterval); err == nil {
		t.Error("a huge --samples accepted")
	}
	if err := CheckOptions(2, 500_000); err == nil {
		t.Error("an interval below 1ms accepted")
	}
	if err := CheckOptions(1, 0); err != nil {
		t.Errorf("one sample needs no interval: %v", err)
	}
}
