package heaplimit

import (
	"strings"
	"testing"
)

const mib = 1 << 20

func TestOldSpaceLimit(t *testing.T) {
	for _, c := range []struct {
		name        string
		heapLimit   uint64
		args        []string
		nodeOptions string
		want        uint64
		from        string
	}{
		// The heap limits measured on Node.js v20.20.2 (heaplimit.go).
		{"128 on the command line", 176 * mib, []string{"--max-old-space-size=128"}, "", 128 * mib, LimitFromFlag},
		{"256 with underscores", 304 * mib, []string{"--max_old_space_size=256"}, "", 256 * mib, LimitFromFlag},
		{"512 as two arguments", 560 * mib, []string{"--max-old-space-size", "512"}, "", 512 * mib, LimitFromFlag},
		{"in NODE_OPTIONS", 304 * mib, nil, "--enable-source-maps --max-old-space-size=256", 256 * mib, LimitFromFlag},
		{"the command line wins over NODE_OPTIONS", 176 * mib, []string{"--max-old-space-size=128"}, "--max-old-space-size=4000", 128 * mib, LimitFromFlag},
		{"the last flag wins", 176 * mib, []string{"--max-old-space-size=900", "--max-old-space-size=128"}, "", 128 * mib, LimitFromFlag},
		{"default on a large host", 4144 * mib, nil, "", 4096 * mib, LimitFromEstimate},
		{"semi-space flag", (1024 + 3*64) * mib, []string{"--max-semi-space-size=64"}, "", 1024 * mib, LimitFromSemiSpace},
		// V8's own split for a 1 GiB old generation: semi-space 8 MiB, reserve 24 MiB.
		{"default in a small container", 1048 * mib, nil, "", 1024 * mib, LimitFromEstimate},
		// A 256 MiB old generation gets a 1 MiB semi-space (3 MiB reserve); the estimate
		// takes 5.9 MiB: 1.1% low, so the warning comes early, never late.
		{"default at 256 MiB", 259 * mib, nil, "", 259*mib - 259*mib/131*3, LimitFromEstimate},
		{"a flag above the heap limit is not believed", 176 * mib, []string{"--max-old-space-size=8000"}, "", 176*mib - 176*mib/131*3, LimitFromEstimate},
		{"a flag that is not a number", 4144 * mib, []string{"--max-old-space-size=lots"}, "", 4096 * mib, LimitFromEstimate},
		{"a flag without a value", 4144 * mib, []string{"--max-old-space-size"}, "", 4096 * mib, LimitFromEstimate},
		{"other flags only", 4144 * mib, []string{"--inspect", "--max-old-space-sizes=1"}, "", 4096 * mib, LimitFromEstimate},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, from := OldSpaceLimit(c.heapLimit, c.args, c.nodeOptions)
			if got != c.want || from != c.from {
				t.Errorf("oldSpaceLimit(%d MiB, %q, %q) = %.2f MiB (%s), want %.2f MiB (%s)",
					c.heapLimit/mib, c.args, c.nodeOptions, float64(got)/mib, from, float64(c.want)/mib, c.from)
			}
		})
	}
	if got, from := OldSpaceLimit(0, nil, ""); got != 0 || from != "" {
		t.Errorf("no heap limit: %d %q", got, from)
	}
}

func TestNodeOptionsOf(t *testing.T) {
	for _, c := range []struct {
		cmdline []string
		want    string
	}{
		{[]string{"node", "--max-old-space-size=128", "app.js", "--max-old-space-size=9"}, "--max-old-space-size=128"},
		{[]string{"/usr/bin/node", "-r", "dotenv/config", "--max-old-space-size", "256", "server.js"}, "-r dotenv/config --max-old-space-size 256"},
		{[]string{"node", "--", "--max-old-space-size=1"}, ""},
		{[]string{"node"}, ""},
		{nil, ""},
		{[]string{"node", "-"}, ""},
		{[]string{"node", "--inspect", "-r"}, "--inspect -r"},
	} {
		if got := strings.Join(NodeOptionsOf(c.cmdline), " "); got != c.want {
			t.Errorf("nodeOptionsOf(%q) = %q, want %q", c.cmdline, got, c.want)
		}
	}
}

func TestOldSpaceUsed(t *testing.T) {
	got := OldSpaceUsed(map[string]uint64{
		"read_only_space": 1, "new_space": 1000, "new_large_object_space": 2000,
		"old_space": 100 * mib, "code_space": 2 * mib, "map_space": mib, "large_object_space": 5 * mib,
		"code_large_object_space": 10, "shared_space": 20,
	})
	if got == nil || *got != 108*mib+30 {
		t.Errorf("old generation used %v, want %d", got, 108*mib+30)
	}
	if OldSpaceUsed(map[string]uint64{"new_space": 1}) != nil || OldSpaceUsed(nil) != nil {
		t.Error("an old generation without old_space")
	}
}

// oldSpaceSnapshot is a process attached at a small --max-old-space-size: V8's heap
// limit is the old generation's plus the 48 MiB reserve.
func FuzzV8SizeFlag(f *testing.F) {
	for _, seed := range []string{"--max-old-space-size=128", "--max_old_space_size 256", "--max-old-space-size", "--max-old-space-size=-1 x", "--max-old-space-size=99999999999999999999"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, opts string) {
		args := strings.Fields(opts)
		v, ok := V8SizeFlag(args, "max-old-space-size")
		if ok && v >= 1<<40 {
			t.Fatalf("%q: %d accepted", opts, v)
		}
		limit, _ := OldSpaceLimit(4144*mib, NodeOptionsOf(append([]string{"node"}, args...)), opts)
		if limit == 0 || limit > 4144*mib {
			t.Fatalf("%q: limit %d", opts, limit)
		}
	})
}
