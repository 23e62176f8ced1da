#!/usr/bin/env bash
# Installs the Debian packages the agent, the lab and the tests drive for real: babeld, tunnels, nft,
# ping, pgrep/pkill/sysctl (procps), openssl, prometheus (the lab's Prometheus; promtool checks
# metrics and rules), clang and zlib1g-dev (they link the native re6st-agent the build publishes),
# and what the lab's real Kubernetes nodes run on: containerd, runc, the CNI plugins, iptables and
# conntrack (kube-proxy), mmdebstrap (the images' base), and podman (its Docker-compatible API runs
# the images under Testcontainers). Progress goes to stderr; without root it only says what is missing.
set -euo pipefail
log() { echo "packages.sh: $*" >&2; }

packages=(babeld wireguard-go wireguard-tools openvpn openssl nftables iproute2 iputils-ping procps prometheus clang zlib1g-dev
    containerd runc containernetworking-plugins iptables conntrack mmdebstrap podman)
missing=()
for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if (( ${#missing[@]} == 0 )); then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian packages ${missing[*]} and not root: what needs them will fail"
    exit 0
fi
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
