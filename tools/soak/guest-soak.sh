#!/bin/sh
# A Debian guest under QEMU 10 busy for MINUTES (default 60) with virtio-fs, virtio-gpu and virtio-input; vmm's and
# QEMU's memory sampled (guest_soak.py says what the guest and the host do). Usage: tools/soak/guest-soak.sh [MINUTES]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/tools/setup.sh" run >/dev/null
vnc_type=$(bash "$root/tools/vnc-client/build.sh")
echo "guest-soak: building vmm (Release) ..." >&2
dotnet build "$root/src/Vmm.Cli" -c Release -v q -nologo >/dev/null
cd "$root"
exec python3 "$root/tools/soak/guest_soak.py" "$root/src/Vmm.Cli/bin/Release/net10.0/vmm" "$vnc_type" "${1:-60}"
