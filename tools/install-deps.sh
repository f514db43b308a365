#!/usr/bin/env bash
# Installs the Debian packages that the tests and tools/guest-image need. Run as root; idempotent.
#
#   qemu-system-x86 (QEMU 10, bookworm-backports)  the reference peer: boots Debian's kernel under TCG
#                                                  against our vhost-user devices
#   busybox-static, cpio, kmod, xz-utils           tools/guest-image/build.sh (static init, initramfs,
#                                                  depmod, module decompression)
#   gcc                                            the interop layout test (static_assert on the C headers)
#   vncsnapshot, libjpeg-turbo-progs               the real VNC client and djpeg that check our VNC sink's picture
#   libvncserver-dev (pulls in libvncclient1)      tools/vnc-client/vnc-type, a LibVNCClient client that types
#                                                  into the guest and watches desktop resizes
#   tesseract-ocr, imagemagick                     read the guest console's text back from what a VNC client
#                                                  saw through IVSHMEM capture (scaled up, then OCR)
#   libdrm-dev                                     the DRM uapi headers for tools/guest-payloads/linux/drm-mode and
#                                                  tools/guest-agents/kvmfr-capture
#                                                  (a static guest program; libdrm itself is not linked)
#   xvfb, x11-utils, x11-apps, xdotool             the real X peers of the cross-domain tests: the host X server,
#                                                  xdpyinfo/xwininfo/xwd, xlogo/xeyes/xclock, host input events
#   libxcb1-dev, libxcb-shm0-dev                   tests/Support/.../x11-probe.c, an xcb client built with gcc
#   weston                                         a real Wayland compositor (headless) for the Wayland channel
#   afl++ and the SharpFuzz.CommandLine dotnet tool (only with --with-fuzz)  tools/fuzz/run.sh: coverage-guided
#                                                  fuzzing (afl-fuzz drives the harness, sharpfuzz instruments
#                                                  our assemblies); the replay tests need neither
#   qemu-system-gui (only with --with-vhost-user-gpu)  QEMU's /usr/lib/qemu/vhost-user-gpu backend, the
#                                                  side-by-side anchor for our GPU device (pulls in GTK/SDL)
#   tigervnc-standalone-server (only with --with-vnc-reference)  TigerVNC's Xvnc, the side-by-side anchor for
#                                                  our VNC server in tools/bench/vnc-bench.sh
#
#   tools/install-deps.sh [--with-vhost-user-gpu] [--with-vnc-reference] [--with-fuzz] [--check]
#
# --check only reports: it needs no root, prints the missing packages one line ("missing: a b c") and exits
# 1 when something is missing, 0 when all is in place (tools/setup.sh asks it before every run and test).
#
# bookworm-backports is enabled by deriving its source from the machine's own apt configuration, so no
# mirror address is ever written here. A second run with everything in place only asks dpkg and exits.
set -euo pipefail

readonly QEMU_PACKAGE=qemu-system-x86
readonly QEMU_MIN_VERSION=1:10.0
readonly BACKPORTS_SUITE=bookworm-backports
readonly BACKPORTS_FILE=/etc/apt/sources.list.d/backports.sources
readonly PLAIN_PACKAGES=(busybox-static cpio kmod xz-utils gcc vncsnapshot libjpeg-turbo-progs libvncserver-dev libdrm-dev tesseract-ocr imagemagick xvfb x11-utils x11-apps xdotool libxcb1-dev libxcb-shm0-dev weston)
readonly GPU_PACKAGE=qemu-system-gui
readonly FUZZ_PACKAGE=afl++
readonly VNC_REFERENCE_PACKAGE=tigervnc-standalone-server
readonly SHARPFUZZ_TOOL=SharpFuzz.CommandLine
readonly SHARPFUZZ_VERSION=2.3.0

log() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

with_gpu=0
with_fuzz=0
with_vnc=0
check_only=0
for arg in "$@"; do
    case $arg in
        --with-vhost-user-gpu) with_gpu=1 ;;
        --with-fuzz) with_fuzz=1 ;;
        --with-vnc-reference) with_vnc=1 ;;
        --check) check_only=1 ;;
        -h|--help) sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$arg' (usage: install-deps.sh [--with-vhost-user-gpu] [--with-vnc-reference] [--with-fuzz] [--check])" ;;
    esac
done

command -v dpkg-query >/dev/null && command -v apt-get >/dev/null || die "needs a Debian system with apt"

# One dpkg-query for every package (a call each would make the no-op run slow): name -> installed version.
declare -A installed=()
while read -r package status version; do
    [[ $status == installed ]] && installed[$package]=$version
done < <(dpkg-query -W -f='${Package} ${db:Status-Status} ${Version}\n' \
    "${PLAIN_PACKAGES[@]}" "$QEMU_PACKAGE" "$GPU_PACKAGE" "$FUZZ_PACKAGE" "$VNC_REFERENCE_PACKAGE" 2>/dev/null || true)

installed_version() { echo "${installed[$1]:-}"; }

# Asks dpkg again, after an install.
query_version() {
    { dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null || true; } | awk '$1=="installed" {print $2}'
}

wanted_plain=("${PLAIN_PACKAGES[@]}")
[[ $with_fuzz -eq 0 ]] || wanted_plain+=("$FUZZ_PACKAGE")
[[ $with_vnc -eq 0 ]] || wanted_plain+=("$VNC_REFERENCE_PACKAGE")
missing_plain=()
for package in "${wanted_plain[@]}"; do
    [[ -n $(installed_version "$package") ]] || missing_plain+=("$package")
done

qemu_version=$(installed_version "$QEMU_PACKAGE")
need_qemu=1
if [[ -n $qemu_version ]] && dpkg --compare-versions "$qemu_version" ge "$QEMU_MIN_VERSION"; then
    need_qemu=0
fi

# qemu-system-gui is pinned to QEMU's exact version, so it must match the installed qemu-system-x86.
need_gpu=0
if [[ $with_gpu -eq 1 ]]; then
    gpu_version=$(installed_version "$GPU_PACKAGE")
    [[ $need_qemu -eq 0 && -n $gpu_version && $gpu_version == "$qemu_version" ]] || need_gpu=1
fi

# The SharpFuzz instrumenter is a dotnet global tool, not a Debian package.
need_sharpfuzz=0
if [[ $with_fuzz -eq 1 ]]; then
    dotnet tool list --global 2>/dev/null | grep -qi "^${SHARPFUZZ_TOOL} *${SHARPFUZZ_VERSION}" || need_sharpfuzz=1
fi

install_sharpfuzz() {
    [[ $need_sharpfuzz -eq 1 ]] || return 0
    log "installing the dotnet tool $SHARPFUZZ_TOOL $SHARPFUZZ_VERSION (sharpfuzz, in ~/.dotnet/tools)"
    dotnet tool update --global "$SHARPFUZZ_TOOL" --version "$SHARPFUZZ_VERSION" >/tmp/install-deps.sharpfuzz.log 2>&1 \
        || { cat /tmp/install-deps.sharpfuzz.log >&2; die "dotnet tool install $SHARPFUZZ_TOOL failed"; }
}

if [[ ${#missing_plain[@]} -eq 0 && $need_qemu -eq 0 && $need_gpu -eq 0 && $need_sharpfuzz -eq 1 && $check_only -eq 0 ]]; then
    install_sharpfuzz
    need_sharpfuzz=0
fi

if [[ ${#missing_plain[@]} -eq 0 && $need_qemu -eq 0 && $need_gpu -eq 0 && $need_sharpfuzz -eq 0 ]]; then
    [[ $check_only -eq 1 ]] \
        || log "up to date: $QEMU_PACKAGE $qemu_version, ${wanted_plain[*]}$([[ $with_gpu -eq 0 ]] || echo " $GPU_PACKAGE") installed; nothing to do"
    exit 0
fi

if [[ $check_only -eq 1 ]]; then
    missing=("${missing_plain[@]}")
    [[ $need_qemu -eq 0 ]] || missing+=("$QEMU_PACKAGE>=${QEMU_MIN_VERSION#1:}${qemu_version:+ (have $qemu_version)}")
    [[ $need_gpu -eq 0 ]] || missing+=("$GPU_PACKAGE")
    [[ $need_sharpfuzz -eq 0 ]] || missing+=("dotnet-tool:$SHARPFUZZ_TOOL")
    echo "missing: ${missing[*]}"
    exit 1
fi

[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get install); 'sudo $0' does it"

sources_changed=0

backports_configured() {
    grep -rqsE "^[^#]*\b${BACKPORTS_SUITE}\b" /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

# Derives the backports source from the first stanza (deb822) or first 'deb' line (one-line style)
# of the machine's own Debian source, so the mirror is whatever this machine already uses.
enable_backports() {
    if backports_configured; then
        log "$BACKPORTS_SUITE already enabled in the apt sources"
        return
    fi
    local tmp
    tmp=$(mktemp)
    if [[ -s /etc/apt/sources.list.d/debian.sources ]]; then
        awk 'BEGIN{RS="";ORS="\n\n"} NR==1' /etc/apt/sources.list.d/debian.sources \
            | sed "s/^Suites:.*/Suites: ${BACKPORTS_SUITE}/" >"$tmp"
        grep -q "^Suites: ${BACKPORTS_SUITE}$" "$tmp" || { rm -f "$tmp"; die "could not derive $BACKPORTS_SUITE from /etc/apt/sources.list.d/debian.sources"; }
        install -m 0644 "$tmp" "$BACKPORTS_FILE"
        log "enabled $BACKPORTS_SUITE: wrote $BACKPORTS_FILE (derived from debian.sources)"
    elif [[ -s /etc/apt/sources.list ]]; then
        awk '$1=="deb" && $3=="bookworm" {$3="'"$BACKPORTS_SUITE"'"; print; exit}' /etc/apt/sources.list >"$tmp"
        [[ -s $tmp ]] || { rm -f "$tmp"; die "no 'deb ... bookworm ...' line in /etc/apt/sources.list to derive $BACKPORTS_SUITE from"; }
        install -m 0644 "$tmp" /etc/apt/sources.list.d/backports.list
        log "enabled $BACKPORTS_SUITE: wrote /etc/apt/sources.list.d/backports.list (derived from sources.list)"
    else
        rm -f "$tmp"
        die "found no Debian apt source to derive $BACKPORTS_SUITE from"
    fi
    rm -f "$tmp"
    sources_changed=1
}

updated=0
apt_update() {
    log "apt-get update"
    apt-get update -q >/tmp/install-deps.apt-update.log 2>&1 \
        || { cat /tmp/install-deps.apt-update.log >&2; die "apt-get update failed"; }
    updated=1
}

has_candidate() {
    # $1 package, $2 optional suite the candidate must come from. The policy text is captured first:
    # 'grep -q' on a pipe would end apt-cache with SIGPIPE and fail the pipeline.
    local package=$1 suite=${2:-} policy candidate
    policy=$(apt-cache policy "$package" 2>/dev/null || true)
    candidate=$(awk '/Candidate:/ {print $2}' <<<"$policy")
    [[ -n $candidate && $candidate != "(none)" ]] || return 1
    [[ -z $suite ]] || grep -q " ${suite}/" <<<"$policy"
}

if [[ $need_qemu -eq 1 || $need_gpu -eq 1 ]]; then
    enable_backports
fi

lists_present=0
compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null && lists_present=1

if [[ $sources_changed -eq 1 || $lists_present -eq 0 ]]; then
    apt_update
fi

candidates_ok() {
    local package
    for package in "${missing_plain[@]}"; do
        has_candidate "$package" || return 1
    done
    if [[ $need_qemu -eq 1 ]]; then
        has_candidate "$QEMU_PACKAGE" "$BACKPORTS_SUITE" || return 1
    fi
    if [[ $need_gpu -eq 1 ]]; then
        has_candidate "$GPU_PACKAGE" "$BACKPORTS_SUITE" || return 1
    fi
    return 0
}

if ! candidates_ok; then
    [[ $updated -eq 1 ]] || apt_update
    candidates_ok || die "apt knows no installable version of one of: ${missing_plain[*]} $QEMU_PACKAGE$([[ $with_gpu -eq 0 ]] || echo " $GPU_PACKAGE") (QEMU from $BACKPORTS_SUITE)"
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
    apt-get install -y -q --no-install-recommends "$@" >/tmp/install-deps.apt-install.log 2>&1
}

install_or_retry() {
    if ! apt_install "$@"; then
        if [[ $updated -eq 0 ]]; then
            log "install failed with the current package lists; refreshing them and retrying"
            apt_update
            apt_install "$@" || { tail -n 30 /tmp/install-deps.apt-install.log >&2; die "apt-get install $* failed"; }
        else
            tail -n 30 /tmp/install-deps.apt-install.log >&2
            die "apt-get install $* failed"
        fi
    fi
}

if [[ ${#missing_plain[@]} -gt 0 ]]; then
    log "installing ${missing_plain[*]}"
    install_or_retry "${missing_plain[@]}"
fi

if [[ $need_qemu -eq 1 ]]; then
    log "installing $QEMU_PACKAGE from $BACKPORTS_SUITE${qemu_version:+ (replacing $qemu_version)}"
    install_or_retry -t "$BACKPORTS_SUITE" "$QEMU_PACKAGE"
    qemu_version=$(query_version "$QEMU_PACKAGE")
    [[ -n $qemu_version ]] && dpkg --compare-versions "$qemu_version" ge "$QEMU_MIN_VERSION" \
        || die "$QEMU_PACKAGE is '${qemu_version:-not installed}' after the install, expected >= $QEMU_MIN_VERSION"
fi

if [[ $need_gpu -eq 1 ]]; then
    log "installing $GPU_PACKAGE from $BACKPORTS_SUITE (vhost-user-gpu backend)"
    install_or_retry -t "$BACKPORTS_SUITE" "$GPU_PACKAGE"
    [[ -x /usr/lib/qemu/vhost-user-gpu ]] || die "/usr/lib/qemu/vhost-user-gpu missing after installing $GPU_PACKAGE"
fi

install_sharpfuzz

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not on PATH after the install"
log "done: $QEMU_PACKAGE $qemu_version; $(qemu-system-x86_64 --version | head -n1)"
