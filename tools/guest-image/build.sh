#!/usr/bin/env bash
# Builds the Vmm test guest: Debian's stock 6.1 kernel (vmlinuz) and a gzip cpio initramfs with static
# busybox, the virtio modules in dependency order and tools/guest-image/init. Everything comes from Debian
# packages fetched with 'apt-get download' (nothing is installed). The result is cached, keyed by the
# package versions and this folder's scripts, so a second run only checks and says "up to date".
#
#   tools/guest-image/build.sh [--out DIR] [--force]
#
# Default DIR: <repo>/.cache/guest-image. Ends by printing VMLINUX=... (the ELF kernel for PVH boot, the
# fast one under TCG; absent if it could not be extracted), VMLINUZ=... and INITRD=..., one a line.
# Needs: apt-get, dpkg-deb, depmod (kmod), cpio, gzip, xz/zstd only if the modules are compressed.
# With gcc (static libc) and the DRM uapi headers (libdrm-dev), the guest programs in
# tools/guest-payloads/linux/*.c are compiled statically into /bin (drm-mode), and the IVSHMEM capture agent
# tools/guest-agents/kvmfr-capture/*.c into /bin/kvmfr-capture; without them the image goes without, and the
# cache key records which.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=$repo/.cache/guest-image
out=$cache
force=0

# Modules the guest loads, by module name; their dependencies are added from modules.dep.
readonly WANTED_MODULES=(
    virtio_pci virtio_rng virtio_gpu fuse virtiofs virtio_input evdev virtio_console vmw_vsock_virtio_transport
)

log() { printf 'guest-image: %s\n' "$*" >&2; }
die() { printf 'guest-image: error: %s\n' "$*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --out) [[ $# -ge 2 ]] || die "--out needs a directory"; out=$2; shift 2 ;;
        --out=*) out=${1#--out=}; shift ;;
        --force) force=1; shift ;;
        -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (usage: build.sh [--out DIR] [--force])" ;;
    esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in apt-get apt-cache dpkg-deb depmod cpio gzip sha256sum; do
    command -v "$tool" >/dev/null || die "'$tool' not found; run tools/install-deps.sh (as root)"
done

finish() {
    [[ ! -s $out/vmlinux ]] || echo "VMLINUX=$out/vmlinux"
    echo "VMLINUZ=$out/vmlinuz"
    echo "INITRD=$out/initrd.img"
}

guest_sources=$repo/tools/guest-payloads/linux
agent_sources=$repo/tools/guest-agents/kvmfr-capture
exec_agent_sources=$repo/tools/guest-agents/vmm-exec-agent
# The static guest programs are built when gcc, a static libc and the DRM uapi headers are here.
can_build_guest_programs() {
    command -v gcc >/dev/null && [[ -f /usr/include/libdrm/drm_mode.h ]] \
        && [[ -n $(gcc -print-file-name=libc.a 2>/dev/null | grep '/') ]]
}
guest_programs=no
can_build_guest_programs && guest_programs=yes
scripts_hash=$( { cat "$here/build.sh" "$here/init"; cat "$guest_sources"/*.[ch] "$agent_sources"/*.[ch] "$exec_agent_sources"/*.[ch] 2>/dev/null || true; echo "guest-programs=$guest_programs"; } \
    | sha256sum | cut -c1-16)
outputs_present() { [[ -s $out/vmlinuz && -s $out/initrd.img && -s $out/stamp ]]; }

# Fast path: the package lists have not changed since the last build and neither have the scripts.
if [[ $force -eq 0 ]] && outputs_present \
    && [[ $(head -n1 "$out/stamp") == *" scripts=$scripts_hash" ]] \
    && [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -newer "$out/stamp" -print -quit 2>/dev/null) ]]; then
    log "up to date: $(head -n1 "$out/stamp")"
    finish
    exit 0
fi

# The newest linux-image-6.1.0-<abi>-amd64-unsigned that apt can install (the ABI is in the name), and
# busybox-static: one apt-cache policy call for all of them, apt-cache is slow on a busy machine.
mapfile -t kernel_names < <(apt-cache pkgnames linux-image-6.1.0- 2>/dev/null \
    | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | sort -rV || true)
declare -A candidate=()
if [[ ${#kernel_names[@]} -gt 0 ]]; then
    while read -r name version; do
        candidate[$name]=$version
    done < <(apt-cache policy "${kernel_names[@]}" busybox-static 2>/dev/null \
        | awk '/^[^ ].*:$/ {name = substr($0, 1, length($0) - 1)} /^  Candidate:/ {print name, $2}')
fi
kernel_package=
kernel_version=
for name in "${kernel_names[@]}"; do
    version=${candidate[$name]:-}
    if [[ -n $version && $version != "(none)" ]]; then
        kernel_package=$name
        kernel_version=$version
        break
    fi
done
busybox_version=${candidate[busybox-static]:-}

if [[ -z $kernel_package || -z $busybox_version || $busybox_version == "(none)" ]]; then
    if outputs_present && [[ $force -eq 0 ]]; then
        log "apt knows no linux-image-6.1.0-*-amd64-unsigned / busybox-static (run 'apt-get update'); using the cached build $(head -n1 "$out/stamp")"
        finish
        exit 0
    fi
    die "apt knows no linux-image-6.1.0-*-amd64-unsigned or busybox-static: run 'apt-get update' (or tools/install-deps.sh) first"
fi

stamp="$kernel_package=$kernel_version busybox-static=$busybox_version scripts=$scripts_hash"

if [[ $force -eq 0 ]] && outputs_present && [[ $(head -n1 "$out/stamp") == "$stamp" ]]; then
    touch "$out/stamp"
    log "up to date: $stamp"
    finish
    exit 0
fi

log "building: $stamp"
debs=$cache/debs
mkdir -p "$debs"
fetch_deb() {
    # $1 package, $2 version; prints the .deb path, downloading it only once.
    local package=$1 version=$2 file
    file=$(compgen -G "$debs/${package}_*.deb" | while read -r f; do
        [[ $(dpkg-deb -f "$f" Version) == "$version" ]] && echo "$f"; done | head -n1 || true)
    if [[ -z $file ]]; then
        log "apt-get download $package=$version"
        (cd "$debs" && apt-get download -q "$package=$version" 2>&1 | grep -v 'unsandboxed' >&2) \
            || die "apt-get download $package=$version failed"
        file=$(compgen -G "$debs/${package}_*.deb" | while read -r f; do
            [[ $(dpkg-deb -f "$f" Version) == "$version" ]] && echo "$f"; done | head -n1 || true)
        [[ -n $file ]] || die "apt-get download $package=$version left no .deb in $debs"
    fi
    echo "$file"
}
kernel_deb=$(fetch_deb "$kernel_package" "$kernel_version")
busybox_deb=$(fetch_deb busybox-static "$busybox_version")
# Only the newest versions are kept.
for f in "$debs"/*.deb; do
    [[ $f == "$kernel_deb" || $f == "$busybox_deb" ]] || rm -f "$f"
done

work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$kernel_deb" "$work/kernel"
dpkg-deb -x "$busybox_deb" "$work/busybox"

release=${kernel_package#linux-image-}
release=${release%-unsigned}
[[ -f $work/kernel/boot/vmlinuz-$release ]] || die "no boot/vmlinuz-$release in $kernel_deb"
moddir=$work/kernel/lib/modules/$release
[[ -d $moddir ]] || die "no lib/modules/$release in $kernel_deb"
depmod -b "$work/kernel" "$release" || die "depmod -b failed"

# modules.dep: "path.ko: dep1.ko dep2.ko ...", the full closure, the deepest dependency last.
declare -A path_of=()
declare -A deps_of=()
while IFS= read -r line; do
    path=${line%%:*}
    name=$(basename "$path"); name=${name%%.ko*}; name=${name//-/_}
    path_of[$name]=$path
    deps_of[$name]=${line#*:}
done <"$moddir/modules.dep"

builtin_names=" $(sed -e 's#.*/##' -e 's/\.ko.*//' -e 's/-/_/g' "$moddir/modules.builtin" | tr '\n' ' ') "

order=()
declare -A placed=()
place() {
    local name=$1 dep depname i
    [[ -z ${placed[$name]:-} ]] || return 0
    local -a deps
    read -r -a deps <<<"${deps_of[$name]}"
    for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
        depname=$(basename "${deps[i]}"); depname=${depname%%.ko*}; depname=${depname//-/_}
        place "$depname"
    done
    placed[$name]=1
    order+=("$name")
}
for name in "${WANTED_MODULES[@]}"; do
    if [[ -n ${path_of[$name]:-} ]]; then
        place "$name"
    elif [[ $builtin_names == *" $name "* ]]; then
        log "module $name is built into $release"
    else
        log "warning: module $name is not in $release; the guest goes without it"
    fi
done

root=$work/initramfs
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,root,mnt/share,lib/modules}
install -m 0755 "$work/busybox/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
    [[ $applet == busybox || -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
done
install -m 0755 "$here/init" "$root/init"
# The kernel opens /dev/console before /init mounts devtmpfs (Debian's built-in initramfs has it too).
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

# Static guest programs (tools/guest-payloads/linux/NAME.c -> /bin/NAME).
if [[ $guest_programs == yes ]]; then
    for source in "$guest_sources"/*.c; do
        [[ -e $source ]] || continue
        name=$(basename "$source" .c)
        gcc -static -O2 -Wall -Wextra -Werror -I/usr/include/libdrm -o "$root/bin/$name" "$source" \
            || die "gcc failed on $source"
        strip "$root/bin/$name" 2>/dev/null || true
        log "guest program /bin/$name"
    done
    # The capture agent: several files, one program (a thread for the heartbeat).
    if compgen -G "$agent_sources/*.c" >/dev/null; then
        gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -pthread -I/usr/include/libdrm -o "$root/bin/kvmfr-capture" \
            "$agent_sources"/*.c || die "gcc failed on $agent_sources"
        strip "$root/bin/kvmfr-capture" 2>/dev/null || true
        log "guest program /bin/kvmfr-capture"
    else
        log "warning: no sources in $agent_sources: the guest goes without the IVSHMEM capture agent"
    fi
    # The exec agent (`vmm exec`): /init starts it when a virtio-vsock device is there.
    if compgen -G "$exec_agent_sources/*.c" >/dev/null; then
        gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$root/bin/vmm-exec-agent" "$exec_agent_sources"/*.c \
            || die "gcc failed on $exec_agent_sources"
        strip "$root/bin/vmm-exec-agent" 2>/dev/null || true
        log "guest program /bin/vmm-exec-agent"
    else
        log "warning: no sources in $exec_agent_sources: the guest goes without the exec agent"
    fi
else
    log "warning: no gcc, static libc or DRM headers (libdrm-dev): the guest goes without tools/guest-payloads/linux programs"
fi

: >"$root/lib/modules/load-order"
for name in "${order[@]}"; do
    src=$moddir/${path_of[$name]}
    file=$(basename "${path_of[$name]}")
    base=${file%%.ko*}
    # busybox insmod takes plain .ko only.
    case $file in
        *.ko) cp "$src" "$root/lib/modules/$base.ko" ;;
        *.ko.xz) xz -dc "$src" >"$root/lib/modules/$base.ko" ;;
        *.ko.zst) zstd -qdc "$src" >"$root/lib/modules/$base.ko" ;;
        *.ko.gz) gzip -dc "$src" >"$root/lib/modules/$base.ko" ;;
        *) die "unknown module format: $file" ;;
    esac
    echo "$base" >>"$root/lib/modules/load-order"
done
log "modules in load order: $(tr '\n' ' ' <"$root/lib/modules/load-order")"

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) \
    | gzip -9n >"$work/initrd.img"
cp "$work/kernel/boot/vmlinuz-$release" "$work/vmlinuz"

# The uncompressed ELF vmlinux boots through its PVH entry (CONFIG_PVH=y): QEMU TCG then skips the
# real-mode set-up and the in-guest decompression, measured at ~4 s of the ~8 s boot here.
extract_vmlinux() {
    local image=$1 target=$2 magic decompress offset
    # magic:decompressor (bash strings cannot hold the NUL that ends the xz magic).
    for pair in $'\xfd7zXZ:xz -dcq --single-stream' $'\x28\xb5\x2f\xfd:zstd -dcq' $'\x1f\x8b\x08:gzip -dcq'; do
        magic=${pair%%:*}
        decompress=${pair#*:}
        while read -r offset; do
            tail -c +$((offset + 1)) "$image" | $decompress >"$target" 2>/dev/null || true
            [[ $(head -c 4 "$target" 2>/dev/null) == $'\x7fELF' ]] && return 0
        done < <(LC_ALL=C grep -abo "$magic" "$image" | cut -d: -f1 | head -n 4)
    done
    rm -f "$target"
    return 1
}
if extract_vmlinux "$work/vmlinuz" "$work/vmlinux"; then
    have_vmlinux=1
else
    have_vmlinux=0
    log "warning: could not extract an ELF vmlinux from vmlinuz; use vmlinuz (slower boot)"
fi

rm -f "$out/stamp"  # written last, so an interrupted build is never taken as up to date
mv -f "$work/vmlinuz" "$out/vmlinuz"
if [[ $have_vmlinux -eq 1 ]]; then mv -f "$work/vmlinux" "$out/vmlinux"; else rm -f "$out/vmlinux"; fi
mv -f "$work/initrd.img" "$out/initrd.img"
echo "$release" >"$out/kernel-release"
{
    echo "$stamp"
    echo "kernel-release $release"
    echo "modules $(tr '\n' ' ' <"$root/lib/modules/load-order")"
} >"$out/stamp"
log "built: vmlinux $(stat -c %s "$out/vmlinux" 2>/dev/null || echo -) bytes, vmlinuz $(stat -c %s "$out/vmlinuz") bytes, initrd.img $(stat -c %s "$out/initrd.img") bytes, kernel $release ($kernel_version)"
finish
