#!/usr/bin/env bash
# Fetches the C virtiofsd (the side-by-side anchor for our virtio-fs device) without installing anything:
# QEMU 10 no longer ships it, so it is taken from Debian 12's QEMU 7.2 qemu-system-common package
# ('apt-get download', 'dpkg-deb -x', keep usr/lib/qemu/virtiofsd only).
#
#   tools/guest-image/get-virtiofsd.sh [--out DIR] [--force]
#
# Default DIR: <repo>/.cache/virtiofsd. Prints VIRTIOFSD=<path> as its last line.
set -euo pipefail

readonly PACKAGE=qemu-system-common
readonly VERSION=1:7.2+dfsg-7+deb12u18+b3

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$repo/.cache/virtiofsd
force=0

log() { printf 'virtiofsd: %s\n' "$*" >&2; }
die() { printf 'virtiofsd: error: %s\n' "$*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --out) [[ $# -ge 2 ]] || die "--out needs a directory"; out=$2; shift 2 ;;
        --out=*) out=${1#--out=}; shift ;;
        --force) force=1; shift ;;
        -h|--help) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (usage: get-virtiofsd.sh [--out DIR] [--force])" ;;
    esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
binary=$out/virtiofsd

check_runs() {
    local missing
    missing=$(ldd "$binary" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')
    [[ -z $missing ]] || die "$binary needs libraries that are not installed: $missing(tools/install-deps.sh installs QEMU 10, which brings them)"
    "$binary" --help >/dev/null 2>&1 || die "$binary --help failed"
}

if [[ $force -eq 0 && -x $binary && $(cat "$out/version" 2>/dev/null) == "$PACKAGE=$VERSION" ]]; then
    check_runs
    log "up to date: $PACKAGE=$VERSION"
    echo "VIRTIOFSD=$binary"
    exit 0
fi

for tool in apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || die "'$tool' not found (needs a Debian system)"
done

work=$(mktemp -d "$out/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "apt-get download $PACKAGE=$VERSION"
(cd "$work" && apt-get download -q "$PACKAGE=$VERSION" 2>&1 | grep -v 'unsandboxed' >&2) \
    || die "apt-get download $PACKAGE=$VERSION failed (run 'apt-get update'; is the version still in bookworm?)"
deb=$(compgen -G "$work/${PACKAGE}_*.deb" | head -n1 || true)
[[ -n $deb ]] || die "apt-get download left no .deb"
dpkg-deb -x "$deb" "$work/root"
[[ -x $work/root/usr/lib/qemu/virtiofsd ]] || die "no usr/lib/qemu/virtiofsd in $(basename "$deb")"
install -m 0755 "$work/root/usr/lib/qemu/virtiofsd" "$binary"
echo "$PACKAGE=$VERSION" >"$out/version"
check_runs
log "fetched: $("$binary" --version 2>&1 | head -n1)"
echo "VIRTIOFSD=$binary"
