#!/usr/bin/env bash
# The pause a heap snapshot causes: `nodeinspect heap --snapshot` of testdata/node/prof_heap.js
# holding WIDGETS objects (about 80 bytes of heap each), for each size given (default: about
# 50 and 100 MB of heap). Prints heap used, the pause and the snapshot's size.
set -eu
bin=${BIN:-bin/nodeinspect}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for widgets in ${WIDGETS:-650000 1300000}; do
	node --max-old-space-size=2048 testdata/node/prof_heap.js "$widgets" noleak >"$dir/out" 2>/dev/null &
	pid=$!
	for _ in $(seq 1 300); do grep -q '"ready":true' "$dir/out" && break; sleep 0.1; done
	# The target's CPU time during the run (/proc/PID/stat utime+stime): on a shared machine
	# the wall-clock pause also counts the time the target waited for a CPU.
	t0=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
	"$bin" heap "$pid" --snapshot -o "$dir/s.heapsnapshot" --force --json >"$dir/doc" 2>/dev/null
	cpu=$(( $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}') - t0 ))
	python3 -c "
import json,sys
d=json.load(open('$dir/doc'))['heap']
used=d['headroom']['heap_used_bytes']/2**20
cpu=$cpu*1000/$(getconf CLK_TCK)
print(f'$widgets widgets: heap used {used:.0f} MiB, pause {d[\"pause_ms\"]} ms wall ({d[\"pause_ms\"]/used*100:.0f} ms per 100 MiB), target CPU {cpu:.0f} ms ({cpu/used*100:.0f} ms per 100 MiB), snapshot {d[\"snapshot_bytes\"]/2**20:.0f} MiB')"
	kill $pid; pid=
	rm -f "$dir/s.heapsnapshot"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
