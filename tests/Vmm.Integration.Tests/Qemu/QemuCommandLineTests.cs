using Vmm.Contracts.Virtio;
using Vmm.Qemu;

namespace Vmm.Integration.Tests.Qemu;

public sealed class QemuCommandLineTests
{
    [Fact]
    public void Command_line_shares_memfd_ram_and_connects_each_device()
    {
        var spec = new QemuLaunchSpec(
            256UL << 20,
            2,
            QemuAccelerator.Tcg,
            "/k/vmlinuz",
            "/k/initrd.img",
            "console=ttyS0",
            [new QemuVhostUserDevice("rng0", "vhost-user-rng-pci", "/tmp/a,b.sock", [])]);
        string line = string.Join(' ', QemuCommandLine.Build(spec));
        Assert.Contains("-M q35 -accel tcg", line, StringComparison.Ordinal);
        Assert.Contains("-m 256M", line, StringComparison.Ordinal);
        Assert.Contains("-smp 2", line, StringComparison.Ordinal);
        Assert.Contains("-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem", line, StringComparison.Ordinal);
        Assert.Contains("-display none -vga none -serial stdio", line, StringComparison.Ordinal);
        Assert.Contains("-no-reboot", line, StringComparison.Ordinal);
        Assert.Contains("-kernel /k/vmlinuz -initrd /k/initrd.img -append console=ttyS0", line, StringComparison.Ordinal);
        Assert.Contains("-chardev socket,id=vu-rng0,path=/tmp/a,,b.sock -device vhost-user-rng-pci,chardev=vu-rng0,id=rng0", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_ivshmem_device_is_ivshmem_plain_on_a_shared_file_backend_of_its_own()
    {
        var spec = new QemuLaunchSpec(64UL << 20, 1, QemuAccelerator.Tcg, "/k", null, "", [])
        {
            IvshmemDevices = [new QemuIvshmemDevice("lg0", "/dev/shm/looking,glass", 32UL << 20), new QemuIvshmemDevice("anon", "/proc/42/fd/7", 1UL << 20)],
        };
        string line = string.Join(' ', QemuCommandLine.Build(spec));
        Assert.Contains("-object memory-backend-file,id=ivshmem0,share=on,mem-path=/dev/shm/looking,,glass,size=33554432 -device ivshmem-plain,memdev=ivshmem0,id=lg0", line, StringComparison.Ordinal);
        Assert.Contains("-object memory-backend-file,id=ivshmem1,share=on,mem-path=/proc/42/fd/7,size=1048576 -device ivshmem-plain,memdev=ivshmem1,id=anon", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Qmp_socket_is_served_without_waiting_for_a_client()
    {
        var spec = new QemuLaunchSpec(64UL << 20, 1, QemuAccelerator.Tcg, "/k", null, "", []) { QmpSocketPath = "/tmp/q,1/qmp.sock" };
        string line = string.Join(' ', QemuCommandLine.Build(spec));
        Assert.Contains("-qmp unix:/tmp/q,,1/qmp.sock,server=on,wait=off", line, StringComparison.Ordinal);
        Assert.DoesNotContain("-qmp", string.Join(' ', QemuCommandLine.Build(spec with { QmpSocketPath = null })), StringComparison.Ordinal);
    }

    [Fact]
    public void Kvm_uses_the_host_cpu_and_auto_must_be_resolved_first()
    {
        var spec = new QemuLaunchSpec(64UL << 20, 1, QemuAccelerator.Kvm, "/k", null, "", []);
        string line = string.Join(' ', QemuCommandLine.Build(spec));
        Assert.Contains("-accel kvm -cpu host", line, StringComparison.Ordinal);
        Assert.DoesNotContain("-initrd", line, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => QemuCommandLine.Build(spec with { Accelerator = QemuAccelerator.Auto }));
    }

    [Fact]
    public void Auto_picks_kvm_only_where_the_ring0_probe_says_guest_kernels_run_natively()
    {
        Assert.Equal(QemuAccelerator.Tcg, new QemuPlatform(new QemuPlatformOptions()).ResolveAccelerator());
        Assert.Equal(QemuAccelerator.Tcg, new QemuPlatform(new QemuPlatformOptions { RunsGuestKernelsNatively = () => false }).ResolveAccelerator());
        Assert.Equal(QemuAccelerator.Kvm, new QemuPlatform(new QemuPlatformOptions { RunsGuestKernelsNatively = () => true }).ResolveAccelerator());
        Assert.Equal(QemuAccelerator.Tcg, new QemuPlatform(new QemuPlatformOptions { Accelerator = QemuAccelerator.Tcg, RunsGuestKernelsNatively = () => true }).ResolveAccelerator());
    }

    [Theory]
    [InlineData("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)", "10.0.2")]
    [InlineData("QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)\nCopyright", "7.2.19")]
    [InlineData("QEMU emulator version 10.1", "10.1.0")]
    public void Version_is_read_from_version_output(string output, string expected)
    {
        Assert.True(QemuBinary.TryParseVersion(output, out Version? version));
        Assert.Equal(Version.Parse(expected), version);
    }

    [Fact]
    public void Missing_qemu_is_a_clear_reason()
    {
        Assert.False(QemuBinary.TryLocate("/nonexistent/qemu-system-x86_64", out _, out string? reason));
        Assert.Contains("was not found at /nonexistent/qemu-system-x86_64", reason, StringComparison.Ordinal);
        Assert.False(QemuBinary.TryParseVersion("not qemu", out _));
    }

    [Theory]
    [InlineData(VirtioDeviceType.Entropy, "vhost-user-rng-pci")]
    [InlineData(VirtioDeviceType.FileSystem, "vhost-user-fs-pci")]
    [InlineData(VirtioDeviceType.Gpu, "vhost-user-gpu-pci")]
    [InlineData(VirtioDeviceType.Input, "vhost-user-input-pci")]
    [InlineData(VirtioDeviceType.Vsock, "vhost-user-vsock-pci")]
    public void Each_supported_device_type_has_its_front_end(VirtioDeviceType type, string driver)
    {
        Assert.True(QemuFrontendDevices.TryGetDriver(type, out string? found));
        Assert.Equal(driver, found);
        Assert.False(QemuFrontendDevices.TryGetDriver(VirtioDeviceType.Net, out _));
    }
}
