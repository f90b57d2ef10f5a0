#!/usr/bin/env bash
# make bench: nodeinspect against lsof and ss on the same real Node.js processes, side by
# side and in turn. Prints the median of each command and the ratios, and peak memory.
set -u
bin=${BIN:-bin/nodeinspect}
runs=${RUNS:-7}
node=$(command -v node || command -v nodejs) || { echo "bench: node not found" >&2; exit 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

# start SCRIPT ARGS...: runs a testdata/node script with the fd limit raised, waits for ready.
start() {
	local out; out=$(mktemp)
	( ulimit -n "$(ulimit -Hn)"; exec "$node" "testdata/node/$1" "${@:2}" ) >"$out" 2>/dev/null &
	local pid=$!
	pids+=("$pid")
	for _ in $(seq 1 600); do grep -q '"ready":true' "$out" && break; sleep 0.1; done
	grep -q '"ready":true' "$out" || { echo "bench: $1 did not get ready" >&2; exit 1; }
	rm -f "$out"
	echo "$pid"
}

# median_ms CMD...: runs the command $runs times, prints the median wall time in ms.
median_ms() {
	local times=()
	for _ in $(seq 1 "$runs"); do
		local t0 t1
		t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
		times+=($(( (t1 - t0) / 1000000 )))
	done
	printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}

peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == 0) print "inf"; else printf "%.1fx", b / a }'; }

echo "machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "runs per command: $runs (median wall time)"
echo

for load in "idle:0" "16k established:16000" "16k with 2k CLOSE_WAIT:16000 2000"; do
	name=${load%%:*}; args=${load#*:}
	if [ "$args" = 0 ]; then pid=$(start idle.js); else pid=$(start many_sockets.js $args); fi
	fds=$(ls /proc/$pid/fd | wc -l)
	ni=$(median_ms "$bin" fds "$pid" --json)
	rep=$(median_ms "$bin" report "$pid" --json --sample 0)
	lsof_ms=$(median_ms lsof -p "$pid")
	ss_ms=$(median_ms ss -tanp)
	mem=$(peak_kb "$bin" fds "$pid" --json)
	printf '%-26s fds=%-6s nodeinspect fds %4d ms | report %4d ms | lsof -p %4d ms | ss -tanp %4d ms | lsof/fds %s | peak %d KiB\n' \
		"$name" "$fds" "$ni" "$rep" "$lsof_ms" "$ss_ms" "$(ratio "$ni" "$lsof_ms")" "$mem"
	kill -9 "$pid" 2>/dev/null
done

# ps on a host with a thousand processes (1000 sleeps plus whatever runs here).
sleepers=()
for _ in $(seq 1 1000); do sleep 600 & sleepers+=($!); done
procs=$(ls /proc | grep -c '^[0-9]')
ni_ps=$(median_ms "$bin" ps --json)
ps_ps=$(median_ms ps -e -o pid,ppid,rss,args)
printf '%-26s procs=%-5s nodeinspect ps %4d ms | ps -e -o pid,ppid,rss,args %4d ms | ps/nodeinspect %s\n' \
	"1000 processes" "$procs" "$ni_ps" "$ps_ps" "$(ratio "$ni_ps" "$ps_ps")"
{ kill -9 "${sleepers[@]}"; wait "${sleepers[@]}"; } 2>/dev/null
