#!/usr/bin/env bash
# virtio-fs benchmark: our device and the C virtiofsd side by side, through the same C# vhost-user front-end.
#   tools/bench/fs-bench.sh [--file-mib N] [--chunk-kib N] [--meta-ops N] [--repeat N] [--depth N] [--queues N]
#                           [--virtiofsd-threads N] [--poll-us N] [--also-poll-us N]
# --depth: requests in flight per request queue (default 1); --queues: request queues, one client thread each.
# --poll-us: our request threads' longest busy-poll (requestPollMicroseconds, default 50; 0 off); --also-poll-us adds
# our device with another window to the same run (0: before/after polling). --virtiofsd-threads 8 or more with 8 or
# more in flight gets the C virtiofsd 7.2 killed by its own seccomp filter (tools/bench/README.md).
# Prints medians of N runs (each back-end once per run, alternating), CPU per request and the ratios ours / C.
# Fetches virtiofsd into .cache/virtiofsd/ when missing (tools/guest-image/get-virtiofsd.sh); virtiofsd needs root.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
virtiofsd=$repo/.cache/virtiofsd/virtiofsd
[[ -x $virtiofsd ]] || "$repo/tools/guest-image/get-virtiofsd.sh" >&2
exec dotnet run -c Release --project "$here/Vmm.FsBench" -- --virtiofsd "$virtiofsd" "$@"
