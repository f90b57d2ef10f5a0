package units

import "testing"

const mib = 1 << 20

func TestBytes(t *testing.T) {
	for _, c := range []struct {
		in   uint64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.00 KiB"},
		{1536, "1.50 KiB"},
		{10 * 1024, "10.0 KiB"},
		{8 * mib, "8.00 MiB"},
		{310 * mib, "310 MiB"},
		{999 * mib, "999 MiB"},
		{1023*mib + 900*1024, "1.00 GiB"},
		{2000 * mib, "1.95 GiB"},
		{2048 * mib, "2.00 GiB"},
		{2096 * mib, "2.05 GiB"},
		{1 << 60, "1.00 EiB"},
		{^uint64(0), "16.0 EiB"},
	} {
		if got := Bytes(c.in); got != c.want {
			t.Errorf("Bytes(%d) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := SignedBytes(-5); got != "-5 B" {
		t.Errorf("SignedBytes(-5) = %q", got)
	}
	if got := SignedBytes(1536); got != "1.50 KiB" {
		t.Errorf("SignedBytes(1536) = %q", got)
	}
}

func TestWholeMiB(t *testing.T) {
	for in, want := range map[uint64]string{0: "0 MiB", mib: "1 MiB", 1536 * 1024: "1 MiB", 512 * mib: "512 MiB"} {
		if got := WholeMiB(in); got != want {
			t.Errorf("WholeMiB(%d) = %q, want %q", in, got, want)
		}
	}
}
