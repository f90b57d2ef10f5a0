#!/usr/bin/env bash
# make bench (fleet part): `nodeinspect serve` scraping real idle Node.js processes, side by
# side in the same run with Debian's prometheus-process-exporter (when installed) and, when
# BASE_BIN names one, an earlier nodeinspect build, on a host filled to FILL processes.
#
# For each fleet size in NODES it starts that many idle Node.js processes
# (testdata/node/fleet_idle.js, ~40 MiB RSS each), tops the host up to FILL processes with
# `sleep` (so process-exporter and serve walk a host of that size), then measures each
# exporter alone, one after the other: SCRAPES scrapes 1.1 s apart (past serve's 1 s share
# window, so each one is a scan), their median and maximum wall time, the exporter's CPU
# time per scrape (utime+stime of /proc/<pid>/stat), its CPU over IDLE seconds without a
# scrape, and its RSS after the scrapes. "CPU at 15 s" is (CPU a scrape + idle CPU for 15 s)
# / 15 s: the share of one core a Prometheus scraping every 15 s costs.
#
# Every process it starts is killed by pid on exit, on failure too.
#
#   NODES="52 200" FILL=1000 SCRAPES=10 IDLE=15 BASE_BIN=/tmp/old-nodeinspect scripts/bench_fleet.sh
set -u
bin=${BIN:-bin/nodeinspect}
base=${BASE_BIN:-}
sizes=${NODES:-52 200}
fill=${FILL:-1000}
scrapes=${SCRAPES:-10}
idle=${IDLE:-15}
interval=15 # the scrape interval the CPU share is given for (Prometheus's common default)
node=$(command -v node || command -v nodejs) || { echo "bench: node not found" >&2; exit 1; }
pidfile=$(mktemp)
nodefile=$(mktemp)
cleanup() {
	while read -r p; do kill -9 "$p" 2>/dev/null; done <"$pidfile"
	while read -r p; do kill -9 "$p" 2>/dev/null; done <"$nodefile"
	wait 2>/dev/null
	rm -f "$pidfile" "$nodefile"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
host_procs() { ls -d /proc/[0-9]* 2>/dev/null | wc -l; }
ticks_ms() { echo $(( $1 * 1000 / $(getconf CLK_TCK) )); }

# scrape_ms URL: one scrape's wall time in ms (the body is read and dropped).
scrape_ms() { curl -s -o /dev/null -w '%{time_total}\n' "$1" | awk '{printf "%d\n", $1 * 1000}'; }

# wait_up URL: until URL answers (10 s at most).
wait_up() { for _ in $(seq 1 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; return 1; }

# measure NAME PID URL: the scrapes of one running exporter, then stop it.
measure() {
	local name=$1 pid=$2 url=$3 times=() t0 t1 i0 i1 per idle_ms share rss
	if ! wait_up "$url"; then
		echo "$name: did not answer on $url" >&2
		kill -9 "$pid" 2>/dev/null
		return
	fi
	scrape_ms "$url" >/dev/null # warm: first scan, names, buffers
	sleep 1.1
	t0=$(cpu_ticks "$pid")
	for _ in $(seq 1 "$scrapes"); do
		times+=("$(scrape_ms "$url")")
		sleep 1.1
	done
	t1=$(cpu_ticks "$pid")
	rss=$(( $(rss_kb "$pid") / 1024 ))
	i0=$(cpu_ticks "$pid")
	sleep "$idle"
	i1=$(cpu_ticks "$pid")
	per=$(ticks_ms $(( (t1 - t0) )))
	per=$(( per / scrapes ))
	idle_ms=$(ticks_ms $(( i1 - i0 )))
	share=$(awk -v c="$per" -v i="$idle_ms" -v w="$idle" -v n="$interval" 'BEGIN { if (w > 0) i = i * n / w; printf "%.2f", (c + i) / (n * 1000) * 100 }')
	printf '%-34s nodes %3d, host %4d processes: scrape median %4d ms, max %4d ms; RSS %3d MiB; CPU %4d ms a scrape + %3d ms idle in %ds = %s%% of a core at %d s\n' \
		"$name" "$(wc -l <"$nodefile")" "$(host_procs)" "$(median "${times[@]}")" "$(printf '%s\n' "${times[@]}" | sort -n | tail -1)" \
		"$rss" "$per" "$idle_ms" "$idle" "$share" "$interval"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# serve_run NAME BIN ARGS...: start `BIN serve` and measure it.
serve_run() {
	local name=$1 b=$2 port
	shift 2
	port=$(free_port)
	"$b" serve --listen "127.0.0.1:$port" "$@" 2>/dev/null &
	echo $! >>"$pidfile"
	measure "$name" $! "http://127.0.0.1:$port/metrics"
}

pe=$(command -v prometheus-process-exporter || command -v process-exporter || true)
for n in $sizes; do
	have=$(wc -l <"$nodefile")
	if [ "$have" -lt "$n" ]; then
		echo "fleet: starting $(( n - have )) idle Node.js processes ($n in all)"
		for _ in $(seq $(( have + 1 )) "$n"); do
			"$node" testdata/node/fleet_idle.js >/dev/null 2>&1 &
			echo $! >>"$nodefile"
		done
		# Each node takes ~50 ms of CPU to start; wait for the host to settle.
		sleep $(( 2 + (n - have) / 20 ))
	fi
	topup=$(( fill - $(host_procs) ))
	if [ "$topup" -gt 0 ]; then
		echo "fleet: $topup sleep processes to make $fill on the host"
		for _ in $(seq 1 "$topup"); do
			sleep 3600 &
			echo $! >>"$pidfile"
		done
		sleep 1
	fi
	serve_run "nodeinspect serve" "$bin"
	[ -n "$base" ] && serve_run "nodeinspect serve (BASE_BIN)" "$base"
	serve_run "nodeinspect serve --sample 0" "$bin" --sample 0
	if [ -n "$pe" ]; then
		port=$(free_port)
		"$pe" -web.listen-address "127.0.0.1:$port" -procnames node 2>/dev/null &
		echo $! >>"$pidfile"
		measure "process-exporter $(dpkg-query -W -f '${Version}' prometheus-process-exporter 2>/dev/null)" $! "http://127.0.0.1:$port/metrics"
	else
		echo "process-exporter: not installed (apt-get install prometheus-process-exporter): no comparison"
	fi
done
