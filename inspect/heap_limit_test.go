package inspect

import (
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
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
		// The heap limits measured on Node.js v20.20.2 (heap_limit.go).
		{"128 on the command line", 176 * mib, []string{"--max-old-space-size=128"}, "", 128 * mib, limitFromFlag},
		{"256 with underscores", 304 * mib, []string{"--max_old_space_size=256"}, "", 256 * mib, limitFromFlag},
		{"512 as two arguments", 560 * mib, []string{"--max-old-space-size", "512"}, "", 512 * mib, limitFromFlag},
		{"in NODE_OPTIONS", 304 * mib, nil, "--enable-source-maps --max-old-space-size=256", 256 * mib, limitFromFlag},
		{"the command line wins over NODE_OPTIONS", 176 * mib, []string{"--max-old-space-size=128"}, "--max-old-space-size=4000", 128 * mib, limitFromFlag},
		{"the last flag wins", 176 * mib, []string{"--max-old-space-size=900", "--max-old-space-size=128"}, "", 128 * mib, limitFromFlag},
		{"default on a large host", 4144 * mib, nil, "", 4096 * mib, limitFromEstimate},
		{"semi-space flag", (1024 + 3*64) * mib, []string{"--max-semi-space-size=64"}, "", 1024 * mib, limitFromSemiSpace},
		// V8's own split for a 1 GiB old generation: semi-space 8 MiB, reserve 24 MiB.
		{"default in a small container", 1048 * mib, nil, "", 1024 * mib, limitFromEstimate},
		// A 256 MiB old generation gets a 1 MiB semi-space (3 MiB reserve); the estimate
		// takes 5.9 MiB: 1.1% low, so the warning comes early, never late.
		{"default at 256 MiB", 259 * mib, nil, "", 259*mib - 259*mib/131*3, limitFromEstimate},
		{"a flag above the heap limit is not believed", 176 * mib, []string{"--max-old-space-size=8000"}, "", 176*mib - 176*mib/131*3, limitFromEstimate},
		{"a flag that is not a number", 4144 * mib, []string{"--max-old-space-size=lots"}, "", 4096 * mib, limitFromEstimate},
		{"a flag without a value", 4144 * mib, []string{"--max-old-space-size"}, "", 4096 * mib, limitFromEstimate},
		{"other flags only", 4144 * mib, []string{"--inspect", "--max-old-space-sizes=1"}, "", 4096 * mib, limitFromEstimate},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, from := oldSpaceLimit(c.heapLimit, c.args, c.nodeOptions)
			if got != c.want || from != c.from {
				t.Errorf("oldSpaceLimit(%d MiB, %q, %q) = %.2f MiB (%s), want %.2f MiB (%s)",
					c.heapLimit/mib, c.args, c.nodeOptions, float64(got)/mib, from, float64(c.want)/mib, c.from)
			}
		})
	}
	if got, from := oldSpaceLimit(0, nil, ""); got != 0 || from != "" {
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
		if got := strings.Join(nodeOptionsOf(c.cmdline), " "); got != c.want {
			t.Errorf("nodeOptionsOf(%q) = %q, want %q", c.cmdline, got, c.want)
		}
	}
}

func TestOldSpaceUsed(t *testing.T) {
	got := oldSpaceUsed(map[string]uint64{
		"read_only_space": 1, "new_space": 1000, "new_large_object_space": 2000,
		"old_space": 100 * mib, "code_space": 2 * mib, "map_space": mib, "large_object_space": 5 * mib,
		"code_large_object_space": 10, "shared_space": 20,
	})
	if got == nil || *got != 108*mib+30 {
		t.Errorf("old generation used %v, want %d", got, 108*mib+30)
	}
	if oldSpaceUsed(map[string]uint64{"new_space": 1}) != nil || oldSpaceUsed(nil) != nil {
		t.Error("an old generation without old_space")
	}
}

// oldSpaceSnapshot is a process attached at a small --max-old-space-size: V8's heap
// limit is the old generation's plus the 48 MiB reserve.
func oldSpaceSnapshot(oldUsed, heapUsed, maxOld uint64) *model.Snapshot {
	s := heapSnapshot(2*heapUsed, heapUsed+10*mib, heapUsed, maxOld+48*mib)
	s.Memory.Heap.OldSpaceUsedBytes = u64(oldUsed)
	setOldSpaceLimit(s.Memory.Heap, []string{"--max-old-space-size=" + itoa(maxOld/mib)}, "")
	return s
}

func itoa(n uint64) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

func TestHeapNearLimitOldSpace(t *testing.T) {
	ctx := rules.EvalContext{Thresholds: rules.DefaultThresholds()}
	for _, c := range []struct {
		name              string
		oldUsed, heapUsed uint64
		maxOld            uint64
		want              string
	}{
		// The last sample before the OOM at 128 MiB when GC stayed effective: 127.5 MiB old,
		// 128.3 MiB heap used (72.9% of the 176 MiB heap limit, which never warned).
		{"just before the OOM at 128", 127 * mib, 128 * mib, 128, "HEAP_NEAR_LIMIT:critical"},
		// V8 may give up at 80% (102.4 MiB of 128): 85% of that is 87.04 MiB, 95% 97.28 MiB.
		{"at the warning", 88 * mib, 92 * mib, 128, "HEAP_NEAR_LIMIT:warning"},
		{"below the warning", 87 * mib, 92 * mib, 128, ""},
		{"at the critical", 98 * mib, 100 * mib, 128, "HEAP_NEAR_LIMIT:critical"},
		{"below the critical", 97 * mib, 100 * mib, 128, "HEAP_NEAR_LIMIT:warning"},
		// The ineffective-GC crash measured at 128 MiB: 104 MiB of old generation (81%).
		{"where GC stopped freeing memory", 104 * mib, 110 * mib, 128, "HEAP_NEAR_LIMIT:critical"},
		{"just before the OOM at 256", 254 * mib, 255 * mib, 256, "HEAP_NEAR_LIMIT:critical"},
		{"70% of 512", 359 * mib, 370 * mib, 512, "HEAP_NEAR_LIMIT:warning"},
		// A young generation full of garbage does not count: the old generation is small.
		{"young garbage", 40 * mib, 120 * mib, 128, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := oldSpaceSnapshot(c.oldUsed, c.heapUsed, c.maxOld*mib)
			got := onlyRule(model.CodeHeapNearLimit, s, ctx)
			if codes(got) != c.want {
				t.Fatalf("%s, want %q", codes(got), c.want)
			}
			if len(got) == 1 {
				ev := got[0].Evidence
				limit, _ := ev["limit"].Str()
				if ev["compared"] != evidence.Text("old_space") || ev["limit_bytes"] != evidence.Bytes(uint64(float64(c.maxOld*mib)*0.8)) || ev["used_bytes"] != evidence.Bytes(c.oldUsed) ||
					ev["old_space_limit_bytes"] != evidence.Bytes(c.maxOld*mib) || ev["heap_limit_bytes"] != evidence.Bytes((c.maxOld+48)*mib) ||
					!strings.Contains(limit, "--max-old-space-size") {
					t.Errorf("evidence %v", ev)
				}
			}
		})
	}
	// Without the spaces, heap used is held against the old generation's limit.
	s := oldSpaceSnapshot(0, 100*mib, 128*mib)
	s.Memory.Heap.OldSpaceUsedBytes = nil
	got := onlyRule(model.CodeHeapNearLimit, s, ctx)
	if codes(got) != "HEAP_NEAR_LIMIT:critical" || got[0].Evidence["compared"] != evidence.Text("heap_used_vs_old_space") {
		t.Errorf("heap used against the old limit: %s %v", codes(got), got)
	}
	// Without any old-generation limit the V8 heap limit is all there is.
	s = heapSnapshot(2000, 1000, 960, 1000)
	s.Memory.Heap.OldSpaceLimitBytes = nil
	got = onlyRule(model.CodeHeapNearLimit, s, ctx)
	if codes(got) != "HEAP_NEAR_LIMIT:critical" || got[0].Evidence["compared"] != evidence.Text("heap") {
		t.Errorf("heap limit only: %s %v", codes(got), got)
	}
}

func FuzzV8SizeFlag(f *testing.F) {
	for _, seed := range []string{"--max-old-space-size=128", "--max_old_space_size 256", "--max-old-space-size", "--max-old-space-size=-1 x", "--max-old-space-size=99999999999999999999"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, opts string) {
		args := strings.Fields(opts)
		v, ok := v8SizeFlag(args, "max-old-space-size")
		if ok && v >= 1<<40 {
			t.Fatalf("%q: %d accepted", opts, v)
		}
		limit, _ := oldSpaceLimit(4144*mib, nodeOptionsOf(append([]string{"node"}, args...)), opts)
		if limit == 0 || limit > 4144*mib {
			t.Fatalf("%q: limit %d", opts, limit)
		}
	})
}
