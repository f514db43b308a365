#!/usr/bin/env bash
# Makes sure this clone can run: the .NET SDK that global.json asks for, the Debian packages that
# tools/install-deps.sh installs, and the guest image. The README's two commands (./vmm and
# ./tools/test.sh) call it first. With everything in place it only checks (well under a second).
#
#   tools/setup.sh run|test
#
# Missing packages are installed at once when running as root, through sudo (it says why it asks for a
# password) otherwise. Without either, 'run' stops with the command to type; 'test' goes on and the
# tests whose peer is missing skip themselves and say why.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
purpose=${1:-}

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

case $purpose in
    run|test) ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "usage: tools/setup.sh run|test" ;;
esac

# The SDK: global.json names a version and rolls forward to later feature bands of the same major.minor.
readonly SDK_INSTALL_HINT="install it with Microsoft's packages for Debian 12 (https://learn.microsoft.com/dotnet/core/install/linux-debian: 'sudo apt-get install dotnet-sdk-10.0') or the dotnet-install script (https://dot.net/v1/dotnet-install.sh --channel 10.0)"
wanted=$(sed -n 's/.*"version"[[:space:]]*:[[:space:]]*"\([0-9.]*\)".*/\1/p' "$repo/global.json" | head -n1)
[[ -n $wanted ]] || die "could not read the SDK version from $repo/global.json"
IFS=. read -r want_major want_minor want_patch <<<"$wanted"
command -v dotnet >/dev/null || die "the .NET SDK is not on PATH; this clone needs SDK $want_major.$want_minor (at least $wanted): $SDK_INSTALL_HINT"
sdks=$(dotnet --list-sdks 2>/dev/null | awk '{print $1}')
sdk_ok=0
for sdk in $sdks; do
    IFS=. read -r major minor patch <<<"${sdk%%-*}"
    if [[ $major == "$want_major" && $minor == "$want_minor" && ${patch:-0} -ge $want_patch ]]; then sdk_ok=1; break; fi
done
[[ $sdk_ok -eq 1 ]] || die "found .NET SDK $(echo ${sdks:-none} | tr '\n' ' ')but this clone needs $want_major.$want_minor (at least $wanted, global.json); $SDK_INSTALL_HINT"

# Debian packages: QEMU 10, what the guest image is built from, the real peers the tests use.
if ! missing=$("$here/install-deps.sh" --check); then
    log "vmm needs Debian packages that are not installed (${missing#missing: }); installing them with tools/install-deps.sh (apt-get; a few minutes the first time)"
    if [[ $(id -u) -eq 0 ]]; then
        "$here/install-deps.sh"
    elif command -v sudo >/dev/null; then
        sudo -p "setup: apt-get needs root to install them; [sudo] password for %u: " "$here/install-deps.sh"
    elif [[ $purpose == test ]]; then
        log "not root and no sudo: not installing; the tests that need them will skip and say why (as root: tools/install-deps.sh)"
    else
        die "not root and no sudo: run 'tools/install-deps.sh' as root, then this again"
    fi
fi

# The Debian guest kernel + initramfs (cached; the first build takes about a minute).
# Its "up to date" line is dropped: a run with everything in place says nothing.
build_guest_image() { "$here/guest-image/build.sh" 2> >(grep -v '^guest-image: up to date' >&2) >/dev/null; }
if [[ $purpose == test ]]; then
    build_guest_image || log "the guest image could not be built; tests that boot a Linux guest will skip"
else
    build_guest_image
fi
