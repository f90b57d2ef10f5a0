#!/usr/bin/env bash
# make bench (snapshot part): summarise a synthetic ~500 MB heap snapshot with
# `nodeinspect analyze` and print wall time, CPU time and peak RSS. The target is under 30 s
# and under 1.5 GiB. MB=... changes the size; the file is removed afterwards.
set -eu
bin=${BIN:-bin/nodeinspect}
mb=${MB:-500}
go build -o bin/synthsnap ./scripts/synthsnap
file=$(mktemp --suffix=.heapsnapshot)
trap 'rm -f "$file"' EXIT
bin/synthsnap -mb "$mb" -o "$file" >/dev/null
size=$(( $(stat -c %s "$file") / 1000000 ))
for run in 1 2 3; do
	/usr/bin/time -f "snapshot ${size} MB run $run: wall %e s, CPU user %U s + sys %S s, peak RSS %M KB" \
		"$bin" analyze "$file" >/dev/null
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
