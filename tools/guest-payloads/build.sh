#!/bin/sh
# Builds the guest payloads: build.sh OUTPUT_DIRECTORY (the tests run this into a git-ignored folder; nothing
# built is committed).
#  - every *.S here: a flat binary linked at 0x100000 (<name>.bin), run by tests through LongModeGuest;
#  - elf/: ELF payloads the kernel loader boots from machine.kernel: rng-ring3.elf and
#    virtiofs-dax-ring3.elf, ivshmem-ring3.elf, cross-domain-ring3.elf (C, Vmm ring-3 note) and pvh-hello.elf (Xen PVH note; QEMU boots it too).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/out"}
mkdir -p "$out"
for source in "$here"/*.S; do
    name=$(basename "$source" .S)
    gcc -nostdlib -static -no-pie -Wl,-Ttext=0x100000 -Wl,--build-id=none -o "$out/$name.elf" "$source"
    objcopy -O binary -j .text "$out/$name.elf" "$out/$name.bin"
done
cflags="-ffreestanding -nostdlib -static -no-pie -fno-pic -O2 -mno-red-zone -mgeneral-regs-only -fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables -Wall -Wextra -Werror"
ldflags="-Wl,--build-id=none -Wl,-T,$here/elf/payload.ld -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments"
gcc $cflags $ldflags -o "$out/rng-ring3.elf" "$here/elf/ring3-entry.S" "$here/elf/rng-ring3.c"
gcc $cflags $ldflags -o "$out/virtiofs-dax-ring3.elf" "$here/elf/ring3-entry.S" "$here/elf/virtiofs-dax-ring3.c"
gcc $cflags $ldflags -o "$out/ivshmem-ring3.elf" "$here/elf/ring3-entry.S" "$here/elf/ivshmem-ring3.c"
gcc $cflags $ldflags -o "$out/cross-domain-ring3.elf" "$here/elf/ring3-entry.S" "$here/elf/cross-domain-ring3.c"
gcc $cflags $ldflags -o "$out/pvh-hello.elf" "$here/elf/pvh-hello.S"
