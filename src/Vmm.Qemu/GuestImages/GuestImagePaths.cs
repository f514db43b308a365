namespace Vmm.Qemu.GuestImages;

/// <summary>A built guest image: the kernel to boot and its initramfs.</summary>
/// <param name="KernelPath">The ELF <c>vmlinux</c> (PVH entry, the faster boot under TCG) when it was extracted, else <c>vmlinuz</c>.</param>
/// <param name="InitrdPath">The initramfs with busybox, the virtio modules and the Vmm guest /init.</param>
public sealed record GuestImagePaths(string KernelPath, string InitrdPath);
