#!/usr/bin/env bash
# Runs a list of file-system operations in the Debian test guest (QEMU 10, TCG) on a virtio-fs share served by
# our device (vmm serve-vhost-user) and by the C virtiofsd, each from a fresh directory under umask 022, and diffs
# what the guest saw. Issue 18's conformance check, side by side.
#
#   tools/virtiofs-compare/compare.sh [--ops FILE] [--virtiofsd PATH] [--keep]
#
# --ops: the operation list (default: ops.sh beside this script). --virtiofsd: the C daemon (default:
# .cache/virtiofsd/virtiofsd, fetched by tools/guest-image/get-virtiofsd.sh). Needs the guest image in
# .cache/guest-image (tools/guest-image/build.sh) and a built tree (dotnet build Framework.sln).
# Exit 0 when both back-ends agree line for line, 1 when they differ (the diff is printed), 2 on a setup error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
ops=$here/ops.sh
virtiofsd=$repo/.cache/virtiofsd/virtiofsd
keep=0
die() { printf 'compare: error: %s\n' "$*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --ops) ops=$2; shift 2 ;;
        --virtiofsd) virtiofsd=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1'" ;;
    esac
done

image=$repo/.cache/guest-image
[[ -f $image/vmlinuz && -f $image/initrd.img ]] || die "no guest image in $image (tools/guest-image/build.sh)"
[[ -f $ops ]] || die "no operation list $ops"
vmm=$repo/src/Vmm.Cli/bin/Debug/net10.0/vmm.dll
plugin=$repo/plugins/Vmm.Plugins.VirtioFs/bin/Debug/net10.0
[[ -f $vmm && -f $plugin/vmm-plugin.json ]] || die "build the tree first (dotnet build Framework.sln)"
if [[ ! -x $virtiofsd ]]; then
    echo "compare: the C virtiofsd is not at $virtiofsd; fetching it (tools/guest-image/get-virtiofsd.sh)" >&2
    virtiofsd=$("$repo/tools/guest-image/get-virtiofsd.sh" | sed -n 's/^VIRTIOFSD=//p' | tail -1)
    [[ -x $virtiofsd ]] || die "no C virtiofsd to compare with"
fi

work=$(mktemp -d /tmp/virtiofs-compare.XXXXXX)
cleanup() { [[ -n ${daemon:-} ]] && kill "$daemon" 2>/dev/null || true; [[ $keep == 1 ]] || rm -rf "$work"; }
trap cleanup EXIT

# run NAME START-COMMAND...: serves $work/NAME/share on $work/NAME.sock, boots the guest on it, keeps the lines
# the script printed (between the guest init's BEGIN and END markers).
run() {
    local name=$1; shift
    local share=$work/$name/share sock=$work/$name.sock
    mkdir -p "$share"
    cp "$ops" "$share/t.sh"
    (umask 022; exec "$@" >"$work/$name.daemon.log" 2>&1) &
    daemon=$!
    for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.1; done
    [[ -S $sock ]] || die "$name did not open $sock (see $work/$name.daemon.log)"
    timeout 600 qemu-system-x86_64 -M q35 -accel tcg -cpu max -m 512M -smp 1 \
        -object memory-backend-memfd,id=mem,size=512M,share=on -numa node,memdev=mem \
        -nodefaults -no-user-config -display none -vga none -serial stdio -monitor none -no-reboot \
        -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
        -append "console=ttyS0 loglevel=4 panic=-1 vmm.share=cmp vmm.script=t.sh" \
        -chardev socket,id=fs,path="$sock" -device vhost-user-fs-pci,chardev=fs,tag=cmp \
        >"$work/$name.console.log" 2>&1 || true
    kill "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
    daemon=
    sed -n '/VMM-GUEST: BEGIN/,/VMM-GUEST: END/p' "$work/$name.console.log" | grep -v 'VMM-GUEST' | tr -d '\r' >"$work/$name.out"
    [[ -s $work/$name.out ]] || die "$name: the guest printed nothing (see $work/$name.console.log)"
}

run ours dotnet "$vmm" serve-vhost-user --socket "$work/ours.sock" --device virtio-fs --plugin-path "$plugin" \
    --option "sharedDir=$work/ours/share" --option tag=cmp
run virtiofsd "$virtiofsd" --socket-path="$work/virtiofsd.sock" -o source="$work/virtiofsd/share" -o cache=auto

echo "ours: $(grep -c . "$work/ours.out") lines, $(grep -c '^FAIL' "$work/ours.out" || true) failed operations"
echo "virtiofsd: $(grep -c . "$work/virtiofsd.out") lines, $(grep -c '^FAIL' "$work/virtiofsd.out" || true) failed operations"
if diff -u "$work/virtiofsd.out" "$work/ours.out"; then
    echo "compare: both back-ends agree on every operation"
else
    exit 1
fi
