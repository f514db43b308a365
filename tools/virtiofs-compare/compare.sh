#!/usr/bin/env bash
# Runs a list of file-system operations in the Debian test guest (QEMU 10, TCG) on a virtio-fs share served by
# our device (vmm serve-vhost-user) and by the C virtiofsd, each from a fresh directory under umask 022, and diffs
# what the guest saw. Issue 18's conformance check, side by side.
#
#   tools/virtiofs-compare/compare.sh [--ops FILE | --pjdfstest DIR [--only D,D...]] [--virtiofsd PATH] [--timeout S] [--keep]
#
# --ops: the operation list (default: ops.sh beside this script). --pjdfstest: a pjdfstest checkout
# (https://github.com/pjd/pjdfstest); its test program is compiled statically here (gcc) and the whole suite runs
# in the guest on each share (pjdfstest-run.sh), both back-ends side by side; the summary counts tests and the diff
# compares the failed ones. --only: just these test directories (e.g. mknod,open), in that order. --virtiofsd: the C daemon (default: .cache/virtiofsd/virtiofsd, fetched by
# tools/guest-image/get-virtiofsd.sh). --timeout: seconds a guest may run (default 600, 5400 with --pjdfstest).
# Needs the guest image in .cache/guest-image (tools/guest-image/build.sh) and a built tree (dotnet build
# Framework.sln). Exit 0 when both back-ends agree line for line, 1 when they differ (the diff is printed), 2 on a
# setup error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
ops=$here/ops.sh
virtiofsd=$repo/.cache/virtiofsd/virtiofsd
keep=0
pjdfstest=
only=
timeout=
die() { printf 'compare: error: %s\n' "$*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --ops) ops=$2; shift 2 ;;
        --virtiofsd) virtiofsd=$2; shift 2 ;;
        --pjdfstest) pjdfstest=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1'" ;;
    esac
done

image=$repo/.cache/guest-image
# shellcheck source=../guest-image/boot-on-share.sh
source "$repo/tools/guest-image/boot-on-share.sh"
[[ -f $image/vmlinuz && -f $image/initrd.img ]] || die "no guest image in $image (tools/guest-image/build.sh)"
vmm=$repo/src/Vmm.Cli/bin/Debug/net10.0/vmm.dll
plugin=$repo/plugins/Vmm.Plugins.VirtioFs/bin/Debug/net10.0
[[ -f $vmm && -f $plugin/vmm-plugin.json ]] || die "build the tree first (dotnet build Framework.sln)"
if [[ ! -x $virtiofsd ]]; then
    echo "compare: the C virtiofsd is not at $virtiofsd; fetching it (tools/guest-image/get-virtiofsd.sh)" >&2
    virtiofsd=$("$repo/tools/guest-image/get-virtiofsd.sh" | sed -n 's/^VIRTIOFSD=//p' | tail -1)
    [[ -x $virtiofsd ]] || die "no C virtiofsd to compare with"
fi

work=$(mktemp -d /tmp/virtiofs-compare.XXXXXX)
daemons=()
cleanup() { for d in "${daemons[@]}"; do kill "$d" 2>/dev/null || true; done; [[ $keep == 1 ]] || rm -rf "$work"; }
trap cleanup EXIT

# The payload each share gets: the operation list, or pjdfstest (built here, static) with its runner.
payload=$work/payload
mkdir -p "$payload"
if [[ -n $pjdfstest ]]; then
    [[ -f $pjdfstest/pjdfstest.c && -d $pjdfstest/tests ]] || die "$pjdfstest is not a pjdfstest checkout"
    mkdir -p "$payload/pjd"
    cp -r "$pjdfstest/tests" "$payload/pjd/"
    # configure's answers for glibc on Linux, so that no autotools are needed.
    printf '#define %s 1\n' HAVE_SYS_SYSMACROS_H HAVE_FACCESSAT HAVE_FCHMODAT HAVE_FCHOWNAT HAVE_FSTATAT HAVE_LINKAT \
        HAVE_MKDIRAT HAVE_MKFIFOAT HAVE_MKNODAT HAVE_OPENAT HAVE_POSIX_FALLOCATE HAVE_READLINKAT HAVE_RENAMEAT \
        HAVE_SYMLINKAT HAVE_UNLINKAT HAVE_UTIMENSAT HAVE_STRUCT_STAT_ST_ATIM HAVE_STRUCT_STAT_ST_CTIM \
        HAVE_STRUCT_STAT_ST_MTIM >"$work/config.h"
    gcc -O2 -static -D_GNU_SOURCE -DHAVE_CONFIG_H -I"$work" -o "$payload/pjd/pjdfstest" "$pjdfstest/pjdfstest.c" \
        || die "could not build pjdfstest (gcc with a static libc is needed)"
    cp "$here/pjdfstest-run.sh" "$payload/t.sh"
    if [[ -n $only ]]; then
        for d in ${only//,/ }; do
            [[ -d $pjdfstest/tests/$d ]] || die "no test directory $d in $pjdfstest/tests"
            echo "$d"
        done >"$payload/pjd/only"
    fi
    timeout=${timeout:-5400}
else
    [[ -f $ops ]] || die "no operation list $ops"
    cp "$ops" "$payload/t.sh"
    timeout=${timeout:-600}
fi

# run NAME START-COMMAND...: serves $work/NAME/share on $work/NAME.sock, boots the guest on it, keeps the lines
# the script printed (between the guest init's BEGIN and END markers).
run() {
    local name=$1; shift
    local share=$work/$name/share sock=$work/$name.sock daemon
    mkdir -p "$share"
    cp -r "$payload/." "$share/"
    (umask 022; exec "$@" >"$work/$name.daemon.log" 2>&1) &
    daemon=$!
    for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.1; done
    [[ -S $sock ]] || { kill "$daemon" 2>/dev/null; die "$name did not open $sock (see $work/$name.daemon.log)"; }
    boot_on_share "$image" "$sock" cmp "$timeout" "$work/$name.console.log"
    kill "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
    sed -n '/VMM-GUEST: BEGIN/,/VMM-GUEST: END/p' "$work/$name.console.log" | grep -v 'VMM-GUEST' | tr -d '\r' >"$work/$name.out"
    [[ -s $work/$name.out ]] || die "$name: the guest printed nothing (see $work/$name.console.log)"
}

start=$SECONDS
if [[ -n $pjdfstest ]]; then
    # The suite takes long under TCG: both guests at once, each on its own core.
    run ours dotnet "$vmm" serve-vhost-user --socket "$work/ours.sock" --device virtio-fs --plugin-path "$plugin" \
        --option "sharedDir=$work/ours/share" --option tag=cmp &
    daemons+=($!)
    run virtiofsd "$virtiofsd" --socket-path="$work/virtiofsd.sock" -o source="$work/virtiofsd/share" -o cache=auto &
    daemons+=($!)
    wait "${daemons[@]}" || die "a back-end's run failed"
    daemons=()
    echo "compare: pjdfstest on both back-ends in $((SECONDS - start)) s"
    for name in ours virtiofsd; do
        awk -v n="$name" '$1 == "FILE" { files++; planned += $3; ran += $4; failed += $5 }
            END { printf "%s: %d test files, %d tests planned, %d ran, %d failed\n", n, files, planned, ran, failed }' \
            "$work/$name.out"
        awk '$1 == "FILE" { ran += $4 } END { exit ran > 0 ? 0 : 1 }' "$work/$name.out" \
            || die "$name: no pjdfstest test ran (see $work/$name.console.log)"
        # pjdfstest names its files at random: the names are not part of the comparison.
        grep -v '^FILE ' "$work/$name.out" | sed -E 's/pjdfstest_[0-9a-f]{32}/pjdfstest_NAME/g' >"$work/$name.failed" || true
    done
    if diff -u "$work/virtiofsd.failed" "$work/ours.failed"; then
        echo "compare: both back-ends fail the same tests"
    else
        exit 1
    fi
    exit 0
fi

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
