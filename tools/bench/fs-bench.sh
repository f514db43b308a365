#!/usr/bin/env bash
# virtio-fs benchmark: our device and the C virtiofsd side by side, through the same C# vhost-user front-end.
#   tools/bench/fs-bench.sh [--file-mib N] [--chunk-kib N] [--meta-ops N] [--repeat N] [--depth N] [--queues N]
#                           [--virtiofsd-threads N]
# --depth: requests in flight per request queue (default 1); --queues: request queues, one client thread each.
# Prints medians of N runs (each back-end once per run, alternating) and the ratio ours / C.
# Fetches virtiofsd into .cache/virtiofsd/ when missing (tools/guest-image/get-virtiofsd.sh); virtiofsd needs root.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
virtiofsd=$repo/.cache/virtiofsd/virtiofsd
[[ -x $virtiofsd ]] || "$repo/tools/guest-image/get-virtiofsd.sh" >&2
exec dotnet run -c Release --project "$here/Vmm.FsBench" -- --virtiofsd "$virtiofsd" "$@"
