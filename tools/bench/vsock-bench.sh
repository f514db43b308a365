#!/usr/bin/env bash
# Guest-to-host stream throughput and connect latency over our virtio-vsock against a host Unix socket, one run,
# side by side (vsock_bench.py). Boots the test guest (tools/guest-image, .cache/guest-image) under QEMU (TCG here)
# with the virtio-vsock plugin over vhost-user-vsock-pci, and builds vmm-exec-agent for the host as the ceiling.
# Usage: tools/bench/vsock-bench.sh [--repeat N] [--mib M] [--connects C]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/vsock-bench.XXXXXX)
vm_pid= agent_pid=
cleanup() {
    [[ -n $vm_pid ]] && kill -INT "$vm_pid" 2>/dev/null && wait "$vm_pid" 2>/dev/null || true
    [[ -n $agent_pid ]] && kill "$agent_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

image=$repo/.cache/guest-image
[[ -f $image/initrd.img ]] || { echo "no guest image: run tools/guest-image/build.sh" >&2; exit 1; }
kernel=$image/vmlinux; [[ -f $kernel ]] || kernel=$image/vmlinuz
# VMM_DLL=path/to/vmm.dll reuses a build (say which in the figures); else a Release build of vmm.
vmm_dll=${VMM_DLL:-}
if [[ -z $vmm_dll ]]; then
    dotnet build -c Release "$repo/src/Vmm.Cli/Vmm.Cli.csproj" -o "$work/vmm" >/dev/null
    vmm_dll=$work/vmm/vmm.dll
fi

gcc -O2 -std=gnu11 -Wall -Wextra -Werror -o "$work/agent" "$repo"/tools/guest-agents/vmm-exec-agent/*.c
"$work/agent" --unix "$work/agent.sock" 2>/dev/null &
agent_pid=$!

cat > "$work/vm.json" <<JSON
{
  "machine": { "memory": "256M", "kernel": "$kernel", "initrd": "$image/initrd.img", "cmdline": "console=ttyS0 loglevel=4 vmm.wait=1" },
  "platform": "qemu",
  "control": { "socket": "$work/ctl.sock" },
  "devices": [ { "id": "vsock0", "plugin": "virtio-vsock", "type": "virtio-vsock", "options": { "guestCid": 3, "uds": "$work/vsock.sock" } } ]
}
JSON
dotnet "$vmm_dll" run --config "$work/vm.json" >"$work/console.log" 2>&1 &
vm_pid=$!
for _ in $(seq 240); do
    python3 - "$work/vsock.sock" <<'PY' 2>/dev/null && break
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"CONNECT 1024\n")
assert s.recv(3) == b"OK "
PY
    sleep 0.5
done
echo "host: $(nproc) cores, $(qemu-system-x86_64 --version | head -1), vmm: $vmm_dll"
python3 "$repo/tools/bench/vsock_bench.py" --vsock-uds "$work/vsock.sock" --unix-agent "$work/agent.sock" "$@"
echo "qemu accelerator (from vmm's log): $(grep -o -m1 -E '\b(Tcg|Kvm)\b' "$work/console.log" || echo "not logged; Auto picks TCG where /dev/kvm cannot run guest kernels")"
