package inspect

import (
	"strings"
	"testing"

	"github.com/nodeinspect/nodeinspect/inspect/heaplimit"
	"github.com/nodeinspect/nodeinspect/inspect/model"
	"github.com/nodeinspect/nodeinspect/inspect/model/evidence"
	"github.com/nodeinspect/nodeinspect/inspect/rules"
)

const mib = 1 << 20

func oldSpaceSnapshot(oldUsed, heapUsed, maxOld uint64) *model.Snapshot {
	s := heapSnapshot(2*heapUsed, heapUsed+10*mib, heapUsed, maxOld+48*mib)
	s.Memory.Heap.OldSpaceUsedBytes = u64(oldUsed)
	heaplimit.SetOldSpaceLimit(s.Memory.Heap, []string{"--max-old-space-size=" + itoa(maxOld/mib)}, "")
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
