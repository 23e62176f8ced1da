#!/usr/bin/env bash
# Rolls the agents of a running `./re6st lab up` cluster ROUNDS times (kubectl rollout restart)
# while every host pings every other 5 times a second, and records each node's route changes
# (ip monitor route) and every agent pod's log, to tell what moved when a ping went unanswered.
# usage: sudo tests/tools/rollout-watch.sh [ROUNDS] [OUT_DIR]     (defaults: 3, /tmp/re6st-rollout-watch)
# Prints, per ordered pair, the pings answered and unanswered; the files stay in OUT_DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-3}"
out="${2:-/tmp/re6st-rollout-watch}"
kubectl=("$root/.tools/kubectl" --kubeconfig "$root/.lab/kubeconfig")
lab=$(ip netns list | awk '{print $1}' | grep -- '-cp$' | sed 's/-cp$//' | head -1)
[[ -n "$lab" ]] || { echo "rollout-watch: no lab is running (./re6st lab up)" >&2; exit 1; }
daemonset=$("${kubectl[@]}" -n re6st-system get ds -l app.kubernetes.io/component=agent -o name | head -1)
declare -A address
while read -r node prefix; do address[$node]="${prefix%/*}1"; done < <("${kubectl[@]}" get meshnodes -A -o custom-columns=N:.spec.node,P:.spec.ipv6Prefix --no-headers)
nodes=("${!address[@]}")
rm -rf "$out"; mkdir -p "$out"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
for n in "${nodes[@]}"; do
    ip netns exec "$lab-$n" ip -ts monitor route > "$out/routes-$n.txt" 2>&1 & pids+=($!)
    for m in "${nodes[@]}"; do
        [[ "$n" == "$m" ]] && continue
        ip netns exec "$lab-$n" ping -D -O -i 0.2 -W 1 "${address[$m]}" > "$out/ping-$n-$m.txt" 2>&1 & pids+=($!)
    done
done
# Every agent pod's log, followed from the moment its container runs.
(
    declare -A seen
    while true; do
        for pod in $("${kubectl[@]}" -n re6st-system get pods -l app.kubernetes.io/component=agent -o name 2>/dev/null); do
            [[ -n "${seen[$pod]:-}" ]] && continue
            "${kubectl[@]}" -n re6st-system logs "$pod" --tail 1 >/dev/null 2>&1 || continue
            seen[$pod]=1
            "${kubectl[@]}" -n re6st-system logs -f --timestamps "$pod" > "$out/log-${pod##*/}.txt" 2>&1 &
        done
        sleep 0.5
    done
) & pids+=($!)
sleep 5
for round in $(seq 1 "$rounds"); do
    echo "round $round: $(date -u +%T.%N | cut -c1-12) UTC" >&2
    "${kubectl[@]}" -n re6st-system rollout restart "$daemonset" >/dev/null
    "${kubectl[@]}" -n re6st-system rollout status "$daemonset" --timeout=300s >/dev/null
    sleep 10
done
cleanup
pkill -f "logs -f --timestamps" 2>/dev/null || true
trap - EXIT
for f in "$out"/ping-*.txt; do
    pair=$(basename "$f" .txt); pair=${pair#ping-}
    echo "$pair answered $(grep -c 'bytes from' "$f" || true) unanswered $(grep -c 'no answer yet' "$f" || true)"
done
