#!/bin/sh
# jobs.sh — does a CPU-bound sweep run faster on two threads than on one?
#
# Runs the same sweep (bench/retry-storm.yaml's model, a 4 x 5 grid, 4
# replicas per point) with --jobs 1 and --jobs 2, three times each,
# interleaved, and prints the wall-clock medians and the speed-up. The outputs
# of the two are checked to be identical (they must be, whatever the threads).
set -eu
cd "$(dirname "$0")/.."
make -s build/metasim
bin=build/metasim
out=${TMPDIR:-/tmp}/metasim-jobs.$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
sweep() {
    start=$(date +%s%N)
    "$bin" sweep examples/retry-storm.yaml --set duration=4m --replicas 4 --jobs "$1" --out "$out/j$1" \
        --vary 'clients.web.rate=1000/s..1600/s:step=200/s' \
        --vary 'triggers[0].duration=2s..10s:step=2s' > /dev/null
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000000 ))"
}
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$out/t1"
: > "$out/t2"
for i in 1 2 3; do
    sweep 1 >> "$out/t1"
    sweep 2 >> "$out/t2"
done
median() { sort -n "$1" | sed -n 2p; }
m1=$(median "$out/t1")
m2=$(median "$out/t2")
echo "--jobs 1: $(tr '\n' ' ' < "$out/t1")ms   median ${m1} ms"
echo "--jobs 2: $(tr '\n' ' ' < "$out/t2")ms   median ${m2} ms"
awk -v a="$m1" -v b="$m2" 'BEGIN { printf "speed-up: %.2fx (target >= 1.8x on 2 cores)\n", a / b }'
if cmp -s "$out/j1/sweep.csv" "$out/j2/sweep.csv"; then
    echo "sweep.csv identical for --jobs 1 and --jobs 2"
else
    echo "sweep.csv DIFFERS between --jobs 1 and --jobs 2"
    exit 1
fi
