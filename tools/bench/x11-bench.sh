#!/usr/bin/env bash
# Cross-domain X11 benchmark: x11-probe (a small xcb client built with gcc) straight to Xvfb and through the guest-side
# X11 bridge over our in-process virtio-gpu, side by side in one run: GetInputFocus round trips/s and PutImage
# bandwidth (core, MIT-SHM by SysV id, MIT-SHM by memfd), medians and min-max of alternating runs, bridge/direct.
#   tools/bench/x11-bench.sh [--repeat N] [--round-trips N] [--puts N] [--size WxH]
# Needs Xvfb, x11-utils, gcc, libxcb1-dev and libxcb-shm0-dev (tools/install-deps.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec dotnet run -c Release --project "$here/Vmm.X11Bench" -- "$@"
