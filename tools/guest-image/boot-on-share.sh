# Sourced by scripts that run a payload in the Debian test guest on a virtio-fs share (tools/bench/fs-guest-bench.sh,
# tools/virtiofs-compare/compare.sh): one place for the QEMU 10 command line they share.
#
# boot_on_share IMAGE_DIR SOCKET TAG SECONDS CONSOLE_LOG: boots the guest (TCG, one vCPU, 512 MiB of shared memfd
# memory, which vhost-user needs) with a vhost-user-fs-pci device on SOCKET, mounts TAG and runs t.sh from it (the
# image's init: vmm.share, vmm.script); the console goes to CONSOLE_LOG. Returns once the guest powered off or
# SECONDS passed; never fails (the caller reads the log). With BOOT_ON_SHARE_PIDFILE set, QEMU writes its pid there
# (a caller that watches the back-end can stop a guest that will not finish).
boot_on_share() {
    local image=$1 sock=$2 tag=$3 seconds=$4 log=$5
    timeout "$seconds" qemu-system-x86_64 -M q35 -accel tcg -cpu max -m 512M -smp 1 \
        -object memory-backend-memfd,id=mem,size=512M,share=on -numa node,memdev=mem \
        -nodefaults -no-user-config -display none -vga none -serial stdio -monitor none -no-reboot \
        -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
        -append "console=ttyS0 loglevel=4 panic=-1 no_timer_check vmm.share=$tag vmm.script=t.sh" \
        -chardev socket,id=fs,path="$sock" -device vhost-user-fs-pci,chardev=fs,tag="$tag" \
        ${BOOT_ON_SHARE_PIDFILE:+-pidfile "$BOOT_ON_SHARE_PIDFILE"} \
        >"$log" 2>&1 || true
}
