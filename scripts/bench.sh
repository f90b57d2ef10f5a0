#!/usr/bin/env bash
# make bench: nodeinspect against lsof and ss on the same real Node.js processes, side by
# side and in turn. Prints the median of each command and the ratios, and peak memory.
set -u
bin=${BIN:-bin/nodeinspect}
runs=${RUNS:-7}
node=$(command -v node || command -v nodejs) || { echo "bench: node not found" >&2; exit 1; }
# Every process started is listed in $pidfile (start runs in a subshell, so an array would
# not see them) and killed by pid on exit, whatever happens.
pidfile=$(mktemp)
cleanup() {
	while read -r p; do kill -9 "$p" 2>/dev/null; done <"$pidfile"
	rm -f "$pidfile"
}
trap cleanup EXIT

# start SCRIPT ARGS...: runs a testdata/node script with the fd limit raised, waits for ready.
start() {
	local out; out=$(mktemp)
	( ulimit -n "$(ulimit -Hn)"; exec "$node" "testdata/node/$1" "${@:2}" ) >"$out" 2>/dev/null &
	local pid=$!
	echo "$pid" >>"$pidfile"
	for _ in $(seq 1 600); do grep -q '"ready":true' "$out" && break; sleep 0.1; done
	grep -q '"ready":true' "$out" || { echo "bench: $1 did not get ready" >&2; exit 1; }
	rm -f "$out"
	echo "$pid"
}

# once_ms CMD...: runs the command once, prints its wall time in ms.
once_ms() {
	local t0 t1
	t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}

# median LIST: the median of whitespace-separated numbers.
median() { printf '%s\n' $1 | sort -n | sed -n "$(( ($(echo $1 | wc -w) + 1) / 2 ))p"; }

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

floor=${FLOOR:-bin/floor}
bigproc=${BIGPROC:-bin/bigproc}

# Each load: nodeinspect, the in-repo floor, lsof and ss, in turn, on the same process.
for load in "idle:0" "16k established:16000" "16k with 2k CLOSE_WAIT:16000 2000"; do
	name=${load%%:*}; args=${load#*:}
	if [ "$args" = 0 ]; then pid=$(start idle.js); else pid=$(start many_sockets.js $args); fi
	fds=$(ls /proc/$pid/fd | wc -l)
	# In turn: each round runs every command once, so a slow spell of this machine falls
	# on all of them alike; the medians are taken over the rounds.
	t_ni=""; t_rep=""; t_fl=""; t_lsof=""; t_ss=""
	for _ in $(seq 1 "$runs"); do
		t_ni+=" $(once_ms "$bin" fds "$pid" --json)"
		t_fl+=" $(once_ms "$floor" "$pid")"
		t_rep+=" $(once_ms "$bin" report "$pid" --json --sample 0)"
		t_lsof+=" $(once_ms lsof -p "$pid")"
		t_ss+=" $(once_ms ss -tanp)"
	done
	ni=$(median "$t_ni"); rep=$(median "$t_rep"); fl=$(median "$t_fl"); lsof_ms=$(median "$t_lsof"); ss_ms=$(median "$t_ss")
	mem=$(peak_kb "$bin" fds "$pid" --json)
	printf '%-24s fds=%-6s nodeinspect fds %4d ms | report %4d ms | floor %4d ms | lsof -p %4d ms | ss -tanp %4d ms | lsof/fds %s | fds/floor %s | peak %d KiB\n' \
		"$name" "$fds" "$ni" "$rep" "$fl" "$lsof_ms" "$ss_ms" "$(ratio "$ni" "$lsof_ms")" "$(awk -v a="$ni" -v b="$fl" 'BEGIN { printf "%.2f", a / b }')" "$mem"
	kill -9 "$pid" 2>/dev/null
done

# 100k sockets of other processes in the namespace while the target holds 1k: what they
# add to nodeinspect fds (the namespace's socket dump cannot be filtered by inode).
target=$(start many_sockets.js 1000)
alone=$(median_ms "$bin" fds "$target" --json)
foreign=()
for _ in 1 2 3 4 5 6; do foreign+=("$(start many_sockets.js 17000)"); done
tcp=$(awk '/^TCP:/ { print $3 + $7 }' /proc/net/sockstat)
crowded=$(median_ms "$bin" fds "$target" --json)
fl=$(median_ms "$floor" "$target")
printf '%-24s tcp in namespace=%-7s nodeinspect fds alone %4d ms | with them %4d ms | added %s | floor %4d ms\n' \
	"1k among 100k foreign" "$tcp" "$alone" "$crowded" "$(awk -v a="$alone" -v b="$crowded" 'BEGIN { printf "%+.0f%%", (b - a) * 100 / a }')" "$fl"
kill -9 "$target" "${foreign[@]}" 2>/dev/null

# Peak memory at 100k fds: a generated fake tree (a real process may hold 20k here).
big=$(mktemp -d)
"$bigproc" "$big" 100000 >/dev/null
printf '%-24s nodeinspect fds --json peak %d KiB | report --json peak %d KiB (target: under 65536 KiB)\n' \
	"100k fds (fake /proc)" "$(peak_kb "$bin" fds 4242 --json --proc "$big")" "$(peak_kb "$bin" report 4242 --json --sample 0 --proc "$big")"
rm -rf "$big"

# ps on a host with a thousand processes (1000 sleeps plus whatever runs here).
sleepers=()
for _ in $(seq 1 1000); do sleep 600 & sleepers+=($!); echo $! >>"$pidfile"; done
procs=$(ls /proc | grep -c '^[0-9]')
ni_ps=$(median_ms "$bin" ps --json)
ps_ps=$(median_ms ps -e -o pid,ppid,rss,args)
printf '%-26s procs=%-5s nodeinspect ps %4d ms | ps -e -o pid,ppid,rss,args %4d ms | ps/nodeinspect %s\n' \
	"1000 processes" "$procs" "$ni_ps" "$ps_ps" "$(ratio "$ni_ps" "$ps_ps")"
{ kill -9 "${sleepers[@]}"; wait "${sleepers[@]}"; } 2>/dev/null
exit 0
