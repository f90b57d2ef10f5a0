#!/usr/bin/env bash
# make demo: start the bundled leaky Node.js server, run `nodeinspect report` on it, stop it.
set -u
bin=${1:-bin/nodeinspect}
node=$(command -v node || command -v nodejs) || { echo "demo: node not found (apt-get install nodejs)" >&2; exit 1; }
out=$(mktemp)
"$node" testdata/demo.js >"$out" 2>/dev/null &
pid=$!
cleanup() {
	# Stop the demo and everything it spawned, by pid.
	for child in $(sed -n 's/.*"children":\[\([0-9,]*\)\].*/\1/p' "$out" | tr ',' ' '); do
		kill -9 "$child" 2>/dev/null
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$out"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
	grep -q '"ready":true' "$out" && break
	kill -0 "$pid" 2>/dev/null || { echo "demo: the demo server exited early" >&2; exit 1; }
	sleep 0.1
done
grep -q '"ready":true' "$out" || { echo "demo: the demo server did not get ready in 10 s" >&2; exit 1; }
echo "\$ nodeinspect report $pid"
"$bin" report "$pid"
status=$?
echo
echo "(nodeinspect exited $status: 1 when a finding is at or above --fail-on, critical by default; try --fail-on warning)"
[ "$status" -le 1 ]
