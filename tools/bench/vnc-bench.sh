#!/usr/bin/env bash
# VNC encoder benchmark: our VNC sink and TigerVNC's Xvnc fed the same 1920x1080 frames, one C# RFB client reading
# Raw and ZRLE updates (full frame and 10% damage) from both, side by side.
#   tools/bench/vnc-bench.sh [--seconds S per slice] [--repeat N runs] [--xvnc-zlib-level 0-9]
# Xvnc's column needs /usr/bin/Xvnc (tools/install-deps.sh --with-vnc-reference installs tigervnc-standalone-server);
# without it only our server is measured. XVNC=/path overrides the binary.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
xvnc=${XVNC:-/usr/bin/Xvnc}
if [[ ! -x $xvnc ]]; then
    echo "vnc-bench: $xvnc not found (tools/install-deps.sh --with-vnc-reference installs it): skipping Xvnc's column." >&2
fi
exec dotnet run -c Release --project "$here/Vmm.VncBench" -- --xvnc "$xvnc" "$@"
