#!/usr/bin/env bash
# killsweep: how often does SIGKILL of `nodeinspect report --attach` at a given moment harm
# the target? Each case starts testdata/node/safe_echo.js with its own inspector port, runs
# the attach, kills nodeinspect KILL_MS (a range: each case picks the next step in it) after
# it started, then checks that the target is alive, answers, and that no inspector is left
# listening once the closer is done (within WAIT_S seconds, default 6).
#
#   scripts/killsweep.sh [BINARY] [CASES] [FROM_MS] [TO_MS] [PARALLEL]
#
# Prints one line per case and a total: cases, targets harmed (died: SIGSEGV is Node 20's
# inspector crash, nodejs/node#64209), ports left open. Every process it starts is killed by
# pid when it ends.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/nodeinspect}
cases=${2:-75}
from=${3:-110}
to=${4:-160}
par=${5:-3}
# WAIT_S: how long the closer may take to close what was left (the tests allow 5 s).
WAIT_S=${WAIT_S:-6}
work=$(mktemp -d)
pids="$work/pids"
: > "$pids"
cleanup() {
	while read -r p; do kill -9 "$p" 2>/dev/null; done < "$pids"
	# closers end on their own once their target is gone
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

one() {
	local i=$1 ms=$2 port=$((23000 + i))
	local dir="$work/$i"
	mkdir -p "$dir"
	node --inspect-port=127.0.0.1:$port testdata/node/safe_echo.js > "$dir/node.out" 2> "$dir/node.err" &
	local np=$!
	echo "$np" >> "$pids"
	# safe_echo prints its port once it listens
	for _ in $(seq 200); do grep -q . "$dir/node.out" 2>/dev/null && break; sleep 0.02; done
	local tport
	tport=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$dir/node.out" | head -1)
	NODEINSPECT_CLOSER_BOUND=8s NODEINSPECT_DEADMAN=3s NODEINSPECT_STATE_DIR="$dir/state" \
		"$bin" report "$np" --json --attach --sample 100ms > /dev/null 2>&1 &
	local ni=$!
	echo "$ni" >> "$pids"
	sleep "$(awk -v m="$ms" 'BEGIN{printf "%.3f", m/1000}')"
	kill -9 "$ni" 2>/dev/null
	wait "$ni" 2>/dev/null
	local left=0 harmed=0 waited=0
	for waited in $(seq 0 "$((WAIT_S * 10))"); do
		kill -0 "$np" 2>/dev/null || break
		ss -Hltn "sport = :$port" | grep -q . || break
		sleep 0.1
	done
	ss -Hltn "sport = :$port" | grep -q . && left=1
	if ! kill -0 "$np" 2>/dev/null; then
		harmed=1
	elif [ -n "$tport" ] && ! (exec 3<>/dev/tcp/127.0.0.1/"$tport" && echo ping >&3 && timeout 3 head -c 4 <&3 | grep -q pong); then
		harmed=1
	fi
	local status=""
	if [ $harmed = 1 ]; then
		wait "$np" 2>/dev/null
		status=" exit=$?"
	fi
	kill -9 "$np" 2>/dev/null
	[ $left = 1 ] && status="$status state=$(cat "$dir"/state/*.json 2>/dev/null | tr -d '\n ' | head -c 400)"
	echo "case=$i kill_ms=$ms left_open=$left harmed=$harmed closed_after=$((waited * 100))ms$status"
}

running=0
for i in $(seq 0 $((cases - 1))); do
	ms=$((from + (to - from) * i / (cases > 1 ? cases - 1 : 1)))
	one "$i" "$ms" &
	running=$((running + 1))
	if [ $running -ge "$par" ]; then
		wait -n
		running=$((running - 1))
	fi
done | tee "$work/results"
wait
n=$(grep -c '^case=' "$work/results")
h=$(grep -c 'harmed=1' "$work/results")
l=$(grep -c 'left_open=1' "$work/results")
echo "killsweep: $n cases, $h targets harmed, $l ports left open ($bin, kill at ${from}-${to} ms)"
