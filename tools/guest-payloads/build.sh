#!/bin/sh
# Builds every *.S here into a flat binary linked at 0x100000: build.sh OUTPUT_DIRECTORY
# (the tests run this into a git-ignored folder; nothing built is committed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/out"}
mkdir -p "$out"
for source in "$here"/*.S; do
    name=$(basename "$source" .S)
    gcc -nostdlib -static -no-pie -Wl,-Ttext=0x100000 -Wl,--build-id=none -o "$out/$name.elf" "$source"
    objcopy -O binary -j .text "$out/$name.elf" "$out/$name.bin"
done
