#!/bin/sh
# Start-up benchmark: process start to the guest's first UART byte, process start to exit, and peak RSS, for the
# same PVH payload (tools/guest-payloads/elf/pvh-hello.S: prints "hello" on COM1, exits through port 0x501) under
#   - ours:  `vmm run --config` on the kvm platform: the apphost of `dotnet publish src/Vmm.Cli -c Release -r linux-x64`
#            (framework-dependent, ReadyToRun: what tools/bench/README.md calls the published app),
#   - QEMU:  -M microvm -bios qboot.rom -accel kvm (isa-debug-exit at 0x501),
# side by side (alternating), N runs each; prints medians with min-max and the ratios to QEMU. Also times our
# ring-3 virtio-rng payload (PCI enumeration, MSI-X, one virtqueue round trip) as an extra row.
# Usage: tools/bench/boot-time.sh [--trace] [--composite] [N]
#   --trace           also collect vmm's VMM_STARTUP_TRACE marks (config read, plugins loaded, VM created, first
#                     vCPU entry, first UART byte) and print their medians
#   --composite       add rows (PVH and ring-3 virtio-rng) for a self-contained composite ReadyToRun publish (vmm,
#                     its libraries and the framework compiled as one image; built-in plugins as images of their
#                     own): `dotnet publish src/Vmm.Cli -c Release -r linux-x64 --self-contained
#                     -p:PublishReadyToRunComposite=true`, in an artifacts folder of its own (minutes: crossgen2
#                     compiles the whole framework)
#   VMM_COMPOSITE_DIR=DIR  with --composite, time the composite vmm already published in DIR
#   VMM_DIR=DIR       time the vmm published in DIR instead of publishing this checkout
#   VMM_BEFORE_DIR=DIR  add rows (PVH and ring-3 virtio-rng) for another published vmm (e.g. an older build), run
#                     alternately with the others
set -eu
trace=
composite=
while :; do
    case "${1:-}" in
        --trace) trace=--trace; shift ;;
        --composite) composite=1; shift ;;
        *) break ;;
    esac
done
runs=${1:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/vmm-boot-time.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "building payloads into $work ..." >&2
sh "$root/tools/guest-payloads/build.sh" "$work/payloads" >/dev/null
vmm_dir=${VMM_DIR:-}
if [ -z "$vmm_dir" ]; then
    echo "publishing vmm (Release, linux-x64, ReadyToRun) into $work/vmm ..." >&2
    dotnet publish "$root/src/Vmm.Cli" -c Release -r linux-x64 --self-contained false -o "$work/vmm" >/dev/null
    vmm_dir=$work/vmm
fi

composite_dir=${VMM_COMPOSITE_DIR:-$work/vmm-composite}
if [ -n "$composite" ] && [ -z "${VMM_COMPOSITE_DIR:-}" ]; then
    echo "publishing vmm (Release, linux-x64, self-contained, composite ReadyToRun) into $work/vmm-composite ..." >&2
    dotnet publish "$root/src/Vmm.Cli" -c Release -r linux-x64 --self-contained -p:PublishReadyToRunComposite=true \
        --artifacts-path "$work/artifacts-composite" -o "$work/vmm-composite" >/dev/null
fi

head -c 4096 /dev/urandom > "$work/entropy.bin"
cat > "$work/pvh-hello.json" <<JSON
{ "machine": { "memory": "64M", "vcpus": 1, "kernel": "$work/payloads/pvh-hello.elf", "cmdline": "" }, "platform": "kvm", "devices": [] }
JSON
cat > "$work/rng-ring3.json" <<JSON
{ "machine": { "memory": "64M", "vcpus": 1, "kernel": "$work/payloads/rng-ring3.elf", "cmdline": "" }, "platform": "kvm",
  "devices": [ { "id": "rng0", "plugin": "virtio-rng", "type": "virtio-rng", "options": { "source": "file", "path": "$work/entropy.bin" } } ] }
JSON

set -- "ours (vmm run, kvm, PVH payload)=$vmm_dir/vmm run --config $work/pvh-hello.json" \
    "QEMU $(qemu-system-x86_64 --version | head -1 | awk '{print $4}') microvm+qboot (PVH payload)=qemu-system-x86_64 -M microvm -bios /usr/share/qemu/qboot.rom -accel kvm -m 64M -nodefaults -no-user-config -display none -serial stdio -no-reboot -device isa-debug-exit,iobase=0x501,iosize=1 -kernel $work/payloads/pvh-hello.elf" \
    "ours (vmm run, kvm, ring-3 virtio-rng payload)=$vmm_dir/vmm run --config $work/rng-ring3.json"
if [ -n "${VMM_BEFORE_DIR:-}" ]; then
    set -- "$@" "before (vmm run, kvm, PVH payload)=$VMM_BEFORE_DIR/vmm run --config $work/pvh-hello.json" \
        "before (vmm run, kvm, ring-3 virtio-rng payload)=$VMM_BEFORE_DIR/vmm run --config $work/rng-ring3.json"
fi
if [ -n "$composite" ]; then
    set -- "$@" "composite (vmm run, kvm, PVH payload)=$composite_dir/vmm run --config $work/pvh-hello.json" \
        "composite (vmm run, kvm, ring-3 virtio-rng payload)=$composite_dir/vmm run --config $work/rng-ring3.json"
fi
python3 "$(dirname "$0")/boot_time.py" $trace "$runs" "$@"
