#!/usr/bin/env bash
# The target's overhead while `nodeinspect profile` samples it: testdata/node/prof_server.js
# under a closed-loop load (scripts/loadgen, C connections), runs without and with a
# profile at INTERVAL, interleaved PAIRS times (the machine may be shared: interleaving
# spreads its noise over both sides). Prints one line per run and the medians.
set -eu
bin=${BIN:-bin/nodeinspect}
pairs=${PAIRS:-3}
secs=${SECS:-8}
conns=${C:-8}
interval=${INTERVAL:-1ms}
go build -o bin/loadgen ./scripts/loadgen
out=$(mktemp)
node testdata/node/prof_server.js 0 >"$out" 2>/dev/null &
srv=$!
trap 'kill $srv 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 100); do grep -q '"ready":true' "$out" && break; sleep 0.1; done
port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$out")
url="http://127.0.0.1:$port/"
bin/loadgen -url "$url" -c "$conns" -d 3s >/dev/null # warm up the JIT
base=() prof=() basep99=() profp99=()
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
# cpu_ticks: the server's user+system CPU time so far, in clock ticks (/proc/PID/stat
# fields 14 and 15, after the comm field that may hold spaces).
cpu_ticks() { sed 's/.*) //' "/proc/$srv/stat" | awk '{print $12 + $13}'; }
# us_per_req TICKS REQUESTS: the server's CPU microseconds per request.
us_per_req() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.0f", t * 1e6 / hz / n}'; }
basecpu=() profcpu=()
for i in $(seq 1 "$pairs"); do
	t0=$(cpu_ticks)
	r=$(bin/loadgen -url "$url" -c "$conns" -d "${secs}s")
	c=$(us_per_req $(( $(cpu_ticks) - t0 )) "$(echo "$r" | field requests)")
	echo "run $i without profiling: $r cpu_us_per_request=$c"
	base+=("$(echo "$r" | field rps)"); basep99+=("$(echo "$r" | field p99_ms)"); basecpu+=("$c")
	# The profile covers the whole load run (the attach takes about a second first).
	"$bin" profile "$srv" --duration "$((secs + 3))s" --interval "$interval" >"$out.prof" 2>/dev/null &
	ni=$!
	for _ in $(seq 1 100); do ss -Hltnp 2>/dev/null | grep -q "pid=$srv," && ss -Hltnp | grep "pid=$srv," | grep -vq ":$port " && break; sleep 0.05; done
	sleep 1
	t0=$(cpu_ticks)
	r=$(bin/loadgen -url "$url" -c "$conns" -d "${secs}s")
	c=$(us_per_req $(( $(cpu_ticks) - t0 )) "$(echo "$r" | field requests)")
	echo "run $i with profile --interval $interval: $r cpu_us_per_request=$c"
	prof+=("$(echo "$r" | field rps)"); profp99+=("$(echo "$r" | field p99_ms)"); profcpu+=("$c")
	wait $ni || echo "run $i: nodeinspect profile failed"
	echo "run $i: $(head -1 "$out.prof")"
done
rm -f "$out.prof"
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
b=$(median "${base[@]}"); p=$(median "${prof[@]}")
echo "median req/s: without $b, with $p ($(awk -v b="$b" -v p="$p" 'BEGIN{printf "%+.1f%%", 100*(p-b)/b}'))"
echo "median server CPU per request: without $(median "${basecpu[@]}") us, with $(median "${profcpu[@]}") us"
echo "median p99 ms: without $(median "${basep99[@]}"), with $(median "${profp99[@]}")"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
