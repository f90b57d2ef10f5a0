package probes

import (
	"bytes"
	"testing"
	"time"
)

// The clocks' boot time is btime's second plus its fraction: btime is the same instant
// truncated to the second.
func TestClockBootTimeAgreesWithBtime(t *testing.T) {
	btime, err := NewFS(DefaultRoot).BootTime()
	if err != nil {
		t.Skipf("no /proc/stat: %v", err)
	}
	clock, err := ClockBootTime()
	if err != nil {
		t.Fatal(err)
	}
	// 0 ≤ d < 1 s by truncation; 5 ms either side for NTP slewing of the wall clock since
	// the kernel last computed btime's value (it is derived from the same clocks).
	if d := clock.Sub(btime); d < -5*time.Millisecond || d >= time.Second+5*time.Millisecond {
		t.Fatalf("clock boot time %s is %s from btime %s", clock, d, btime)
	}
	if RefineBootTime(btime, clock) != clock {
		t.Fatalf("the clock's boot time was not taken")
	}
}

func TestRefineBootTime(t *testing.T) {
	btime := time.Unix(1795305600, 0)
	for _, c := range []struct {
		clock time.Time
		want  time.Time
	}{
		{btime.Add(437 * time.Millisecond), btime.Add(437 * time.Millisecond)},
		{btime, btime},
		{btime.Add(-300 * time.Millisecond), btime.Add(-300 * time.Millisecond)},
		{btime.Add(1500 * time.Millisecond), btime.Add(1500 * time.Millisecond)},
		{btime.Add(3 * time.Second), btime},  // another time namespace or host: btime
		{btime.Add(-2 * time.Second), btime}, // idem
		{btime.Add(-24 * time.Hour), btime},  // a fake tree's btime of another day
	} {
		if got := RefineBootTime(btime, c.clock); !got.Equal(c.want) {
			t.Errorf("clock %s: got %s, want %s", c.clock.Sub(btime), got.Sub(btime), c.want.Sub(btime))
		}
	}
}

func FuzzParseCmdline(f *testing.F) {
	for _, s := range []string{"node\x00server.js\x00", "short-title\x00\x00\x00\x00", "", "\x00", "a\x00\x00b\x00", "title with spaces"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		args := ParseCmdline(data)
		if len(args) > 0 && args[len(args)-1] == "" {
			t.Fatalf("%q: trailing empty argument in %q", data, args)
		}
		joined := bytes.Join(func() [][]byte {
			var b [][]byte
			for _, a := range args {
				b = append(b, []byte(a))
			}
			return b
		}(), []byte{0})
		if !bytes.Equal(joined, bytes.TrimRight(data, "\x00")) {
			t.Fatalf("%q: arguments %q do not give the input back", data, args)
		}
	})
}
