#!/bin/bash
# Churn under pings in the lab, with every route change recorded: the measurement behind the
# "churn loss" figures of docs/benchmarks.md, and the way to find out where an outage came from.
#
#   sudo tests/tools/lab-churn.sh [--minutes 4] [--seed 7] [--dir /tmp/re6st-churn]
#
# It brings up `./re6st lab up --processes --nodes 10 --order 2` in DIR, starts `ip -ts monitor route` in every
# host and pings between 5 pairs (20 a second, timestamped), applies the sample policy with a 10 s
# period (and the lab's 3 arrows per host) through kubectl, waits MINUTES, then prints the loss and
# every outage of 3 pings or more, and runs `./re6st lab down`. The logs stay in DIR/churn/
# (route-<host>.log, ping-<from>-<to>.log, hosts.txt) and DIR/logs/ (the agents'), also when it fails.
set -euo pipefail
minutes=4 seed=7 dir=/tmp/re6st-churn
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "lab-churn.sh: unknown argument '$1' (--minutes N, --seed S, --dir DIR)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "lab-churn.sh: needs root (the lab makes network namespaces)" >&2; exit 1; }
case "$minutes" in ''|*[!0-9]*) echo "lab-churn.sh: --minutes must be a whole number (got '$minutes')" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out="$dir/churn"
pids=()
finish() {
  [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
  ./re6st lab down --dir "$dir" || true
}
trap finish EXIT

./re6st lab up --processes --dir "$dir" --nodes 10 --order 2 --seed "$seed"
kubectl=(.tools/kubectl --kubeconfig "$dir/kubeconfig")
rm -rf "$out"; mkdir -p "$out"
run=$(sed -n 's/.*"runId": *"\([^"]*\)".*/\1/p' "$dir/state.json")
# name, first address of its IPv6 prefix, role, home sub-mesh
"${kubectl[@]}" get meshnodes -o jsonpath='{range .items[*]}{.spec.node} {.spec.ipv6Prefix} {.spec.role} {.spec.homeSubMesh}{"\n"}{end}' \
  | awk '{ split($2, p, "/"); sub(/::$/, "::1", p[1]); print $1, p[1], $3, $4 }' | sort > "$out/hosts.txt"
cat "$out/hosts.txt"
addr() { awk -v n="$1" '$1 == n { print $2 }' "$out/hosts.txt"; }

for name in $(awk '{ print $1 }' "$out/hosts.txt"); do
  ip -n "$run-$name" -ts -6 monitor route > "$out/route-$name.log" 2>&1 &
  pids+=($!)
done
for pair in a:f b:g c:h d:e j:i; do
  from=${pair%:*} to=${pair#*:}
  ip netns exec "$run-$from" ping -6 -n -D -O -i 0.05 -w $((minutes * 60 + 5)) -I "$(addr "$from")" "$(addr "$to")" > "$out/ping-$from-$to.log" 2>&1 &
  pids+=($!)
done

sleep 5
sed -e 's/refreshPeriod: 5m /refreshPeriod: 10s/' -e 's/arrowsPerNode: 10/arrowsPerNode: 3/' -e 's/smallMeshSize: 8/smallMeshSize: 3/' \
  config/samples/policy.yaml > "$out/policy.yaml"
"${kubectl[@]}" apply -f "$out/policy.yaml"
echo "churn at a 10 s period from $(date -u +%T) for $minutes min (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
sleep $((minutes * 60))
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

total_sent=0 total_lost=0
for log in "$out"/ping-*.log; do
  # A sequence number is lost when no reply ever came; -O prints "no answer yet" with its time.
  read -r sent lost < <(awk '
    match($0, /icmp_seq=[0-9]+/) {
      seq = substr($0, RSTART + 9, RLENGTH - 9) + 0
      if (!(seq in at)) at[seq] = substr($1, 2, length($1) - 2)
      if ($0 ~ /bytes from/) answered[seq] = 1
      if (seq > max) max = seq
    }
    END {
      lost = 0; run = 0
      for (s = 1; s <= max + 1; s++) {
        if (s <= max && !(s in answered)) { lost++; if (run++ == 0) first = s; continue }
        if (run >= 3) printf "  outage of %.2f s from %s UTC (icmp_seq %d to %d)\n", run * 0.05, strftime("%H:%M:%S", at[first], 1), first, s - 1 > "/dev/stderr"
        run = 0
      }
      print max, lost
    }' "$log")
  echo "$(basename "$log" .log): lost $lost of $sent"
  total_sent=$((total_sent + sent)) total_lost=$((total_lost + lost))
done
awk -v l="$total_lost" -v s="$total_sent" 'BEGIN { printf "pings lost under churn: %d of %d (%.3f %%)\n", l, s, s ? 100 * l / s : 0 }'
echo "arrows destroyed, by reason (the agents' logs):"
grep -ho 'removing [^ ]* to [^ ]* ([^)]*)' "$dir"/logs/agent-*.log | sed 's/.*(\(.*\))/\1/' | sort | uniq -c
echo "logs: $out/ (route changes per host, pings) and $dir/logs/"
