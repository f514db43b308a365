#!/usr/bin/env bash
# kvmfr-capture in the real test guest under QEMU (TCG) with QEMU's own IVSHMEM and virtio-gpu devices:
# the guest's /init starts kvmfr-capture on the IVSHMEM BAR2; the guest writes text on its framebuffer console
# (fbcon on virtio-gpu's fbdev emulation); on the host, lgmp-reader reads /dev/shm/<file> as an LGMP client,
# saves a frame as PPM, and tesseract (when installed) must read the text back. Then the guest scrolls text
# continuously and the reader counts frames per second. Last, drm-mode (tools/guest-payloads/linux) sets a
# 1024x768 mode with a 64x64 cursor: the reader must get that frame (new formatVer), the cursor's shape and
# position from the cursor plane, and then a position-only message when drm-mode moves it. Then a second agent with --source fbdev must show new console text.
#
#   tools/guest-agents/kvmfr-capture/test/qemu-capture.sh [--image DIR] [--keep DIR] [--smp N]
#
# DIR defaults to <repo>/.cache/guest-image (tools/guest-image/build.sh; the image must contain
# /bin/kvmfr-capture). --keep DIR keeps the serial log, the PPM/PNG and the reader's output there.
# Exit 0 on success, 1 on failure; prints "SKIP: ..." and exits 0 when QEMU or the image is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
image=$repo/.cache/guest-image
keep=
smp=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --image) image=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        --smp) smp=$2; shift 2 ;;
        *) echo "usage: qemu-capture.sh [--image DIR] [--keep DIR] [--smp N]" >&2; exit 2 ;;
    esac
done

say() { printf 'qemu-capture: %s\n' "$*"; }
skip() { say "SKIP: $*"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
kernel=$image/vmlinux
[[ -s $kernel ]] || kernel=$image/vmlinuz
[[ -s $kernel && -s $image/initrd.img ]] || skip "no guest image in $image (run tools/guest-image/build.sh)"
zcat "$image/initrd.img" | cpio -it --quiet 2>/dev/null | grep -qx 'bin/kvmfr-capture' \
    || skip "the guest image in $image has no /bin/kvmfr-capture (rebuild it with tools/guest-image/build.sh)"

work=$(mktemp -d /tmp/kvmfr-qemu.XXXXXX)
shm_name=kvmfr-test-$$
shm=/dev/shm/$shm_name
qemu_pid=
cleanup() {
    [[ -z $qemu_pid ]] || kill "$qemu_pid" 2>/dev/null || true
    rm -f "$shm"
    if [[ -n $keep ]]; then mkdir -p "$keep" && cp -a "$work"/. "$keep"/; fi
    rm -rf "$work"
}
trap cleanup EXIT
die() { say "FAIL: $*"; tail -n 30 "$work/serial.log" >&2 || true; exit 1; }

gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$work/lgmp-reader" "$here/lgmp-reader.c"
reader=$work/lgmp-reader
fbdev_text="SECOND CAPTURE 1234" # the VGA font's B and V read badly
text="GUEST CAPTURE 4711" # no V: tesseract reads the VGA font's V as U

# The guest: a static text screen (no blinking cursor) for 25 s, then 15 s of continuous scrolling.
guest_cmd=$(cat <<GUEST
sleep 1
echo 0 > /sys/class/graphics/fbcon/cursor_blink
printf '\033[2J\033[H\n\n\n    $text\n\n    hello from the guest console\n' > /dev/tty0
echo "fb: \$(ls /dev/fb* /dev/dri/card* 2>&1 | tr '\n' ' ')"
echo "fbdev: \$(cat /sys/class/graphics/fb0/virtual_size 2>&1) \$(cat /sys/class/graphics/fb0/bits_per_pixel 2>&1) bpp"
cat /run/kvmfr-capture.log
echo TEXT-SHOWN
sleep 25
echo SCROLL-BEGIN
end=\$(( \$(cut -d. -f1 /proc/uptime) + 15 ))
i=0
while [ \$(cut -d. -f1 /proc/uptime) -lt \$end ]; do i=\$((i+1)); echo "scrolling line \$i of the kvmfr capture test" > /dev/tty0; done
echo "SCROLL-END lines=\$i"
drm-mode 1024 768 2060c0 12 100,200
kill \$(pidof kvmfr-capture) && sleep 1
cat /run/kvmfr-capture.log
printf '\033[2J\033[H\n\n\n    $fbdev_text\n' > /dev/tty0
kvmfr-capture --source fbdev >/run/kvmfr-fbdev.log 2>&1 &
echo FBDEV-AGENT
sleep 10
kill \$! && sleep 1
cat /run/kvmfr-fbdev.log
GUEST
)

start=$(date +%s.%N)
: >"$work/serial.log"
qemu-system-x86_64 -M q35 -accel tcg -smp "$smp" -m 512 -nographic -no-reboot -vga none \
    -device virtio-gpu-pci \
    -object memory-backend-file,id=ivshmem,share=on,mem-path="$shm",size=32M -device ivshmem-plain,memdev=ivshmem \
    -kernel "$kernel" -initrd "$image/initrd.img" \
    -append "console=ttyS0 quiet vmm.shell=0 vmm.cmd=$(printf '%s' "$guest_cmd" | base64 -w0)" \
    </dev/null >"$work/serial.log" 2>&1 &
qemu_pid=$!

wait_for() { # PATTERN SECONDS
    local deadline=$((SECONDS + $2))
    until grep -q "$1" "$work/serial.log"; do
        kill -0 "$qemu_pid" 2>/dev/null || die "QEMU exited before '$1'"
        ((SECONDS < deadline)) || die "no '$1' on the serial console within $2 s"
        sleep 0.2
    done
}

wait_for 'kvmfr-capture started' 120
say "guest started the agent after $(echo "$(date +%s.%N) - $start" | bc | cut -c1-5) s: $(grep -a 'kvmfr-capture started' "$work/serial.log" | tr -d '\r')"
wait_for TEXT-SHOWN 120
sleep 3 # a few captures after the text went up
"$reader" --shm "$shm" --frames 1 --save "$work/frame.ppm" --timeout 30 >"$work/reader.log" 2>&1 || { cat "$work/reader.log"; die "reader"; }
cat "$work/reader.log"

# ocr NAME: the text tesseract reads in NAME.ppm's top-left corner, into NAME.txt ("" without tesseract).
ocr() {
    command -v tesseract >/dev/null || return 0
    # fbcon's 8x16 font is small for OCR: scale it up first (ImageMagick when there, else tesseract as is).
    local input=$work/$1.ppm
    if command -v convert >/dev/null && convert "$input" -crop 640x160+0+0 -scale 300% "$work/$1-ocr.png" 2>/dev/null; then
        input=$work/$1-ocr.png
    fi
    tesseract "$input" "$work/$1" >/dev/null 2>&1 || die "tesseract failed on $1"
    say "OCR of $1: $(tr '\n' ' ' <"$work/$1.txt")"
}
command -v tesseract >/dev/null || say "tesseract not installed (apt-get install tesseract-ocr): frames are read but the text is not checked"

ocr frame
if [[ -f $work/frame.txt ]]; then
    grep -q "$text" "$work/frame.txt" || die "'$text' not found by OCR in the captured frame"
    grep -q "hello from the guest console" "$work/frame.txt" || die "the second line not found by OCR in the captured frame"
    say "OCR found both lines in the captured frame"
fi

wait_for SCROLL-BEGIN 120
"$reader" --shm "$shm" --measure 10 --timeout 30 --quiet >"$work/measure.log" 2>&1 || { cat "$work/measure.log"; die "measure"; }
say "while scrolling: $(grep 'frames/s' "$work/measure.log")"
# A KMS client takes the display: a 1024x768 mode of one colour and a 64x64 cursor on the cursor plane.
wait_for 'drm-mode: cursor 64x64 at 100,200' 120
"$reader" --shm "$shm" --expect-fill 1024x768:2060c0 --expect-cursor 100,200,64,64 --expect-cursor-move 300,300 \
    --timeout 20 >"$work/cursor.log" 2>&1 \
    || { cat "$work/cursor.log"; die "mode change / cursor"; }
say "mode change and cursor: $(grep -E 'colour|cursor 64|cursor moved' "$work/cursor.log" | tr '\n' ' ')"
# The fbdev back-end: a second agent reading /dev/fb0 instead of the CRTC's framebuffer.
wait_for FBDEV-AGENT 120
sleep 3
"$reader" --shm "$shm" --frames 1 --save "$work/fbdev.ppm" --timeout 20 >"$work/fbdev.log" 2>&1 || { cat "$work/fbdev.log"; die "fbdev reader"; }
grep -q "capture 'fbdev'" "$work/fbdev.log" || die "the fbdev agent's session does not say capture 'fbdev'"
ocr fbdev
if [[ -f $work/fbdev.txt ]]; then
    grep -q "$fbdev_text" "$work/fbdev.txt" || die "'$fbdev_text' not found by OCR in the fbdev frame"
    say "OCR found '$fbdev_text' in the fbdev frame"
fi
wait_for 'VMM-GUEST: poweroff' 120
wait "$qemu_pid" || true
qemu_pid=
say "guest: $(grep -a 'SCROLL-END' "$work/serial.log" | tr -d '\r')"
say "agents: $(grep -a 'kvmfr-capture: exit' "$work/serial.log" | tr -d '\r' | tr '\n' ' ')"
say "passed in $(echo "$(date +%s.%N) - $start" | bc | cut -c1-5) s"
