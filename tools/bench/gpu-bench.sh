#!/usr/bin/env bash
# virtio-gpu benchmark: our device and QEMU's vhost-user-gpu back-end side by side, through the same C# vhost-user
# front-end (and its vhost-user-gpu display peer), 1920x1080, full frame and 10% damage; blob scanouts, the
# host-copy 2D path (mirrorBacking off) and 2D backing and blobs scattered one page an entry on our device only; each
# against a plain copy of the same bytes.
#   tools/bench/gpu-bench.sh [--seconds S per slice] [--repeat N runs] [--interleave K parts] [--one-at-a-time] [--2d-only | --blob-only]
# QEMU's column needs /usr/lib/qemu/vhost-user-gpu (tools/install-deps.sh --with-vhost-user-gpu); without it only
# our device is measured. VHOST_USER_GPU=/path overrides the binary.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
backend=${VHOST_USER_GPU:-/usr/lib/qemu/vhost-user-gpu}
if [[ ! -x $backend ]]; then
    echo "gpu-bench: $backend not found (tools/install-deps.sh --with-vhost-user-gpu installs it): skipping QEMU's column." >&2
    exec dotnet run -c Release --project "$here/Vmm.GpuBench" -- "$@"
fi
exec dotnet run -c Release --project "$here/Vmm.GpuBench" -- --vhost-user-gpu "$backend" "$@"
