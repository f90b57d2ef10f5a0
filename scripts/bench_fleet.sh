#!/usr/bin/env bash
# make bench (fleet part): `nodeinspect serve` scraping N real idle Node.js processes, side
# by side with Debian's prometheus-process-exporter on the same host when it is installed.
# Prints the median scrape time of each, the exporters' RSS, and nodeinspect's CPU per
# scrape and at a 15 s scrape interval. Every process started is killed by pid on exit.
set -u
bin=${BIN:-bin/nodeinspect}
n=${NODES:-100}
scrapes=${SCRAPES:-15}
node=$(command -v node || command -v nodejs) || { echo "bench: node not found" >&2; exit 1; }
pidfile=$(mktemp)
cleanup() {
	while read -r p; do kill -9 "$p" 2>/dev/null; done <"$pidfile"
	rm -f "$pidfile"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

# scrape_ms URL: one scrape's wall time in ms (the body is read and dropped).
scrape_ms() { curl -s -o /dev/null -w '%{time_total}\n' "$1" | awk '{printf "%d\n", $1 * 1000}'; }

echo "fleet: starting $n idle Node.js processes"
for _ in $(seq 1 "$n"); do
	"$node" testdata/node/fleet_idle.js >/dev/null 2>&1 &
	echo $! >>"$pidfile"
done
sleep 2

port=$(free_port)
# SERVE_ARGS: more flags for the measured serve (e.g. --sample 100ms).
"$bin" serve --listen "127.0.0.1:$port" ${SERVE_ARGS:-} 2>/dev/null &
serve=$!
echo "$serve" >>"$pidfile"
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port/metrics"
scrape_ms "$url" >/dev/null
t0=$(cpu_ticks "$serve")
times=()
for _ in $(seq 1 "$scrapes"); do
	times+=("$(scrape_ms "$url")")
	sleep 1.1 # past serve's 1 s share window: each scrape is a scan
done
t1=$(cpu_ticks "$serve")
seen=$(curl -s "$url" | awk '/^nodeinspect_processes / {print $2}')
series=$(curl -s "$url" | grep -vc '^#')
cpu_ms=$(( (t1 - t0) * 10 / scrapes ))
echo "nodeinspect serve: $seen Node.js processes, $series series; scrape median $(median "${times[@]}") ms (default --sample 300ms included), max $(printf '%s\n' "${times[@]}" | sort -n | tail -1) ms"
echo "nodeinspect serve: RSS $(( $(rss_kb "$serve") / 1024 )) MiB; CPU ${cpu_ms} ms per scrape = $(awk -v c="$cpu_ms" 'BEGIN {printf "%.2f", c / 15000 * 100}')% of a core at a 15 s interval"

pe=$(command -v prometheus-process-exporter || command -v process-exporter || true)
if [ -z "$pe" ]; then
	echo "process-exporter: not installed (apt-get install prometheus-process-exporter): no comparison"
	exit 0
fi
pport=$(free_port)
"$pe" -web.listen-address "127.0.0.1:$pport" -procnames node 2>/dev/null &
pex=$!
echo "$pex" >>"$pidfile"
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$pport/metrics" >/dev/null && break; sleep 0.1; done
purl="http://127.0.0.1:$pport/metrics"
scrape_ms "$purl" >/dev/null
p0=$(cpu_ticks "$pex")
ptimes=()
for _ in $(seq 1 "$scrapes"); do
	ptimes+=("$(scrape_ms "$purl")")
	sleep 1.1
done
p1=$(cpu_ticks "$pex")
pcpu=$(( (p1 - p0) * 10 / scrapes ))
echo "process-exporter ($("$pe" -version 2>&1 | head -1 | cut -c1-40)): scrape median $(median "${ptimes[@]}") ms, RSS $(( $(rss_kb "$pex") / 1024 )) MiB, CPU ${pcpu} ms per scrape"
echo "ratio (nodeinspect / process-exporter scrape time): $(awk -v a="$(median "${times[@]}")" -v b="$(median "${ptimes[@]}")" 'BEGIN { if (b == 0) print "inf"; else printf "%.1fx", a / b }')"
# process-exporter without its smaps and per-thread reads (closer to the work serve does).
lport=$(free_port)
"$pe" -web.listen-address "127.0.0.1:$lport" -procnames node -gather-smaps=false -threads=false 2>/dev/null &
echo $! >>"$pidfile"
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$lport/metrics" >/dev/null && break; sleep 0.1; done
ltimes=()
for _ in $(seq 1 "$scrapes"); do
	ltimes+=("$(scrape_ms "http://127.0.0.1:$lport/metrics")")
	sleep 1.1
done
echo "process-exporter -gather-smaps=false -threads=false: scrape median $(median "${ltimes[@]}") ms"
echo "same with --sample 0 (no event-loop/queue window):"
port0=$(free_port)
"$bin" serve --listen "127.0.0.1:$port0" --sample 0 2>/dev/null &
s0=$!
echo "$s0" >>"$pidfile"
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port0/healthz" >/dev/null && break; sleep 0.1; done
times0=()
for _ in $(seq 1 "$scrapes"); do
	times0+=("$(scrape_ms "http://127.0.0.1:$port0/metrics")")
	sleep 1.1
done
echo "nodeinspect serve --sample 0: scrape median $(median "${times0[@]}") ms ($(awk -v a="$(median "${times0[@]}")" -v b="$(median "${ptimes[@]}")" 'BEGIN { if (b == 0) print "inf"; else printf "%.1fx", a / b }') of process-exporter)"
