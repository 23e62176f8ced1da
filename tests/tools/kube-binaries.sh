#!/usr/bin/env bash
# Prints the directory holding the Kubernetes 1.20.2 programs the lab and the tests run for real:
# kube-apiserver, kube-scheduler, kube-controller-manager, kubelet and kube-proxy (built from
# Debian's kubernetes source package the first time: about 12 minutes on 2 cores), etcd, and
# Kubernetes' pause.c (the lab compiles its pause image from it). Cached in
# ${RE6ST_CACHE:-~/.cache/re6st}/kube-1.20.2. Progress goes to stderr.
set -euo pipefail
cache="${RE6ST_CACHE:-$HOME/.cache/re6st}/kube-1.20.2"
programs=(kube-apiserver kube-scheduler kube-controller-manager kubelet kube-proxy)
log() { echo "kube-binaries.sh: $*" >&2; }

complete=1
for program in "${programs[@]}" etcd; do
    [[ -x "$cache/$program" ]] || complete=0
done
[[ -f "$cache/pause.c" ]] || complete=0
if (( complete )); then
    echo "$cache"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    log "building the Kubernetes programs needs apt-get, so root; run the tests as root (CI does)"
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [[ ! -f /etc/apt/sources.list.d/debian-src.sources ]]; then
    log "enabling Debian source packages"
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > /etc/apt/sources.list.d/debian-src.sources
    apt-get update -qq >&2
fi
need=()
for pkg in golang-go rsync etcd-server golang-github-modern-go-reflect2-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if (( ${#need[@]} )); then
    log "installing ${need[*]}"
    apt-get install -y -qq "${need[@]}" >&2
fi

# The Kubernetes makefiles keep their Go cache in _output (1.7 GB): build in a temporary tree and
# keep only the programs.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
log "fetching Debian's kubernetes source package"
apt-get source --download-only kubernetes >&2
tar xf kubernetes_*.orig.tar.* >&2
src="$(find . -maxdepth 1 -mindepth 1 -type d -name 'kubernetes*' | head -n1)"
[[ -n "$src" ]] || { log "the source tarball did not unpack into a kubernetes directory"; exit 1; }

# CAVEAT: the vendored reflect2 1.0.1 crashes under Go >= 1.18 on the first custom-object create;
# Debian's packaged reflect2 works.
reflect="$src/vendor/github.com/modern-go/reflect2"
rm -f "$reflect"/*.go "$reflect"/*.s
cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go "$reflect"/
cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.s "$reflect"/ 2>/dev/null || true

mkdir -p .go/src/k8s.io
ln -s "$PWD/$src" .go/src/k8s.io/kubernetes
what="${programs[*]/#/cmd/}"
log "building ${programs[*]} (about 12 minutes on 2 cores)"
(cd .go/src/k8s.io/kubernetes && env HOME="$work/home" GOPATH="$work/.go" GOCACHE="$work/gocache" CGO_ENABLED=0 GOPROXY=off GOFLAGS= \
    make WHAT="$what" >&2)

mkdir -p "$cache.tmp"
for program in "${programs[@]}"; do
    built="$(find .go/src/k8s.io/kubernetes/_output -type f -name "$program" -perm -u+x | head -n1)"
    [[ -n "$built" ]] || { log "the build produced no $program"; exit 1; }
    cp "$built" "$cache.tmp/$program"
done
cp "$src/build/pause/linux/pause.c" "$cache.tmp/pause.c"
ln -sf "$(command -v etcd)" "$cache.tmp/etcd"
rm -rf "$cache"
mv "$cache.tmp" "$cache"
log "cached in $cache"
echo "$cache"
