#!/usr/bin/env bash
# LGMP/KVMFR frame handoff benchmark: our KVMFR producer -> memfd -> our consumer's copy-out on another thread,
# against a plain copy of the same bytes; 1920x1080 and 3840x2160 BGRA, full frames and a 10% damage band.
#   tools/bench/lgmp-bench.sh [--seconds S per slice] [--repeat N runs]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec dotnet run -c Release --project "$here/Vmm.LgmpBench" -- "$@"
