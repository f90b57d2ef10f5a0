#!/usr/bin/env bash
# bench_stack.sh: the wall time of `nodeinspect stack` (attach, one pause, close) on an
# ordinary idle Node.js server, RUNS times for each binary given (default bin/nodeinspect),
# alternating the binaries run by run so they share the same load. Prints each binary's
# times, median and max in ms.
#   scripts/bench_stack.sh /tmp/ni-before bin/nodeinspect
set -u
runs=${RUNS:-10}
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=(bin/nodeinspect)
node=$(command -v node || command -v nodejs) || { echo "bench_stack: node not found" >&2; exit 1; }
out=$(mktemp)
"$node" testdata/node/idle.js >"$out" 2>/dev/null &
pid=$!
trap 'kill -9 "$pid" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 100); do grep -q '"ready":true' "$out" && break; sleep 0.1; done
grep -q '"ready":true' "$out" || { echo "bench_stack: idle.js did not get ready" >&2; exit 1; }
"${bins[0]}" stack "$pid" >/dev/null 2>&1 # the first attach of a process does more (SIGUSR1 setup); not counted
declare -A times
for _ in $(seq 1 "$runs"); do
	for b in "${bins[@]}"; do
		t0=$(date +%s%N)
		"$b" stack "$pid" >/dev/null 2>&1 || echo "bench_stack: $b stack exited $?" >&2
		t1=$(date +%s%N)
		times[$b]+="$(((t1 - t0) / 1000000)) "
	done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for b in "${bins[@]}"; do
	sorted=$(tr ' ' '\n' <<<"${times[$b]}" | grep . | sort -n)
	n=$(wc -l <<<"$sorted")
	median=$(sed -n "$(((n + 1) / 2))p" <<<"$sorted")
	echo "$b: median ${median} ms, max $(tail -1 <<<"$sorted") ms (runs: ${times[$b]% })"
done
