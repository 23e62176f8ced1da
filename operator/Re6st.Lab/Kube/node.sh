#!/usr/bin/env bash
# One real Kubernetes node of the lab: containerd, the kubelet and kube-proxy, run in the node's
# network namespace and a mount namespace of its own (KubeNode starts this script with nsenter and
# unshare). Its private /run and /var keep containerd's socket and state, the kubelet's root, pod
# logs and CNI state off the machine; the global sysctls the kubelet writes are private copies. Every
# process of the node, containers included, lives under the cgroup named after the node, which is
# how the lab finds and stops them all (even after a crash).
#
# usage: node.sh DIR CGROUP BINARIES
#   DIR       the node's folder (configs written by KubeNode; run/ and var/ become /run and /var)
#   CGROUP    the node's cgroup, pre-created in every controller; also the kubelet's cgroupRoot
#   BINARIES  the folder of kubelet and kube-proxy
set -euo pipefail
dir="$1" cgroup="$2" bin="$3"

for controller in /sys/fs/cgroup/*/; do
    if [[ -f "$controller/cgroup.procs" && -d "$controller$cgroup" ]]; then
        echo $$ > "$controller$cgroup/cgroup.procs"
    fi
done

# var/lib/re6st-lab/cni: KubeNode.CniConfDirectory, which containerd watches for re6st's CNI configuration.
mkdir -p "$dir/run" "$dir/var/log" "$dir/var/lib/re6st-lab/cni" "$dir/sysctl"
mount --bind "$dir/run" /run
mount --bind "$dir/var" /var
for sysctl in kernel/panic kernel/panic_on_oops vm/overcommit_memory; do
    copy="$dir/sysctl/${sysctl//\//.}"
    cat "/proc/sys/$sysctl" > "$copy"
    mount --bind "$copy" "/proc/sys/$sysctl"
done
sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

pids=()
stop() {
    trap - TERM INT EXIT
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap stop TERM INT EXIT

containerd --config "$dir/containerd.toml" > "$dir/containerd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    [[ -S /run/containerd/containerd.sock ]] && break
    sleep 0.1
done
[[ -S /run/containerd/containerd.sock ]] || { echo "node.sh: containerd did not open its socket within 10 s" >&2; exit 1; }
touch "$dir/containerd.ready"

# The lab imports the images before the kubelet starts, so no pod ever waits for a pull.
for _ in $(seq 1200); do
    [[ -f "$dir/images.imported" ]] && break
    sleep 0.1
done

"$bin/kubelet" $(cat "$dir/kubelet.args") > "$dir/kubelet.log" 2>&1 &
pids+=($!)
"$bin/kube-proxy" --config "$dir/kube-proxy.yaml" > "$dir/kube-proxy.log" 2>&1 &
pids+=($!)

# A node whose containerd, kubelet or kube-proxy dies is a broken node: it stops whole.
wait -n "${pids[@]}"
echo "node.sh: a node process exited; stopping the node" >&2
