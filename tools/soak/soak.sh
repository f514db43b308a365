#!/bin/sh
# Soak runs (not in the default suite; figures go to the closing note and tools/soak/README.md).
#   tools/soak/soak.sh cycles [N]      N VM start/stop cycles in one process (default 1000), twice: on the KVM
#                                      platform with the ring-3 virtio-rng payload, and on the in-process machine;
#                                      every built-in device in each VM. Exit 0 when fds, threads, mappings and the
#                                      managed heap are back at their baseline after the last cycle.
#   tools/soak/soak.sh guest [MINUTES] a Debian guest under QEMU (default 60 min) with virtio-fs, virtio-gpu and
#                                      virtio-input busy the whole time; vmm's and QEMU's RSS sampled (guest-soak.sh).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:-}
case "$mode" in
cycles)
    count=${2:-1000}
    "$root/tools/setup.sh" test >/dev/null
    echo "soak: building vmm (its plugins folder) and the soak runner (Release) ..." >&2
    dotnet build "$root/src/Vmm.Cli" -c Release -v q -nologo >/dev/null
    dotnet build "$root/tools/soak/Vmm.Soak" -c Release -v q -nologo >/dev/null
    sh "$root/tools/guest-payloads/build.sh" >/dev/null
    runner="$root/tools/soak/Vmm.Soak/bin/Release/net10.0/Vmm.Soak"
    plugins="$root/src/Vmm.Cli/bin/Release/net10.0/plugins"
    payload="$root/tools/guest-payloads/out/rng-ring3.elf"
    status=0
    for platform in kvm inprocess; do
        "$runner" "$platform" --cycles "$count" --plugins "$plugins" --payload "$payload" || status=1
    done
    exit $status
    ;;
guest)
    exec sh "$root/tools/soak/guest-soak.sh" "${2:-60}"
    ;;
*)
    echo "usage: tools/soak/soak.sh cycles [N] | guest [MINUTES]" >&2
    exit 2
    ;;
esac
