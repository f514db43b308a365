using System.Text;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Pci;
using Vmm.Contracts.Virtio;
using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Qemu;

namespace Vmm.Integration.Tests.Qemu;

public sealed class QemuPlatformTests
{
    [Fact]
    public async Task Device_without_a_qemu_front_end_fails_before_qemu_starts()
    {
        if (!QemuBinary.TryLocate(null, out _, out string? reason))
        {
            Assert.Skip(reason);
        }

        var device = new DeviceSpec("net0", "Test", "virtio-net", new object(), new NetFactory(), "$.devices[0]");
        var spec = new VmSpec(new MachineSpec(64UL << 20, 1, "/nonexistent/kernel", null, ""), PlatformKind.Qemu, [device], null, null, Path.GetTempPath());
        VmRunResult result = await new QemuPlatform().RunAsync(spec, TestVm.Context(), TestContext.Current.CancellationToken);
        Assert.Equal(VmRunOutcome.VmmFailed, result.Outcome);
        Assert.Contains("$.devices[0]: device type 'virtio-net' (virtio Net) has no QEMU vhost-user front-end", result.Message, StringComparison.Ordinal);
        Assert.True(NetFactory.Created!.Disposed, "The device was not disposed.");
    }

    [Fact]
    public async Task A_plain_pci_device_that_is_not_ivshmem_fails_naming_it_before_qemu_starts()
    {
        if (!QemuBinary.TryLocate(null, out _, out string? reason))
        {
            Assert.Skip(reason);
        }

        var device = new DeviceSpec("nic0", "Test", "e1000", new object(), new PlainPciFactory(), "$.devices[0]");
        var spec = new VmSpec(new MachineSpec(64UL << 20, 1, "/nonexistent/kernel", null, ""), PlatformKind.Qemu, [device], null, null, Path.GetTempPath());
        VmRunResult result = await new QemuPlatform().RunAsync(spec, TestVm.Context(), TestContext.Current.CancellationToken);
        Assert.Equal(VmRunOutcome.VmmFailed, result.Outcome);
        Assert.StartsWith("$.devices[0]: device type 'e1000' is a PCI device (8086:100e) the qemu platform cannot give its guest;", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_stops_a_running_guest()
    {
        if (!QemuBinary.TryLocate(null, out _, out string? reason))
        {
            Assert.Skip(reason);
        }

        if (!GuestImage.TryFind(out string? kernel, out string? initrd, out string? imageProblem))
        {
            Assert.Skip(imageProblem);
        }

        string command = Convert.ToBase64String(Encoding.UTF8.GetBytes("echo SLEEPING; sleep 600"));
        var spec = new VmSpec(new MachineSpec(128UL << 20, 1, kernel, initrd, $"console=ttyS0 loglevel=4 vmm.cmd={command}"), PlatformKind.Qemu, [], null, null, Path.GetTempPath());
        using var sleeping = new LineWatcher("SLEEPING");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task<VmRunResult> run = new QemuPlatform(new QemuPlatformOptions { Accelerator = QemuAccelerator.Tcg, SerialOutput = sleeping })
            .RunAsync(spec, TestVm.Context(), stop.Token);
        Assert.True(await sleeping.Seen.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken), "The guest never started its command.");
        await stop.CancelAsync();
        VmRunResult result = await run.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal(VmRunOutcome.Stopped, result.Outcome);
    }

    private sealed class LineWatcher(string marker) : TextWriter
    {
        public TaskCompletionSource<bool> Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override Encoding Encoding => Encoding.UTF8;

        public override void WriteLine(string? value)
        {
            if (value?.Contains(marker, StringComparison.Ordinal) == true)
            {
                Seen.TrySetResult(true);
            }
        }
    }

    private sealed class PlainPciFactory : IDeviceFactory
    {
        public string DeviceType => "e1000";

        public string Description => "test";

        public Type OptionsType => typeof(object);

        public void Validate(object options, DeviceOptionsValidationContext context)
        {
        }

        public IDevice Create(DeviceCreateContext context, object options) => new PlainPciDevice();
    }

    private sealed class PlainPciDevice : IPciDevice
    {
        public string Id => "nic0";

        public PciDeviceIdentity Identity => new(0x8086, 0x100E, 0x02, 0x00, 0x00, 0x03, 0x8086, 0x001E);

        public IReadOnlyList<PciBar> Bars => [new PciBar(0, 0x20000, PciBarKind.Memory32)];

        public int MsixVectorCount => 0;

        public void ReadBar(int barIndex, ulong offset, Span<byte> data) => data.Clear();

        public void WriteBar(int barIndex, ulong offset, ReadOnlySpan<byte> data)
        {
        }

        public void Activate(IPciDeviceContext context)
        {
        }

        public void Reset()
        {
        }

        public void Dispose()
        {
        }
    }

    private sealed class NetFactory : IDeviceFactory
    {
        public static NetDevice? Created { get; private set; }

        public string DeviceType => "virtio-net";

        public string Description => "test";

        public Type OptionsType => typeof(object);

        public void Validate(object options, DeviceOptionsValidationContext context)
        {
        }

        public IDevice Create(DeviceCreateContext context, object options) => Created = new NetDevice();
    }

    private sealed class NetDevice : IVirtioDevice
    {
        public bool Disposed { get; private set; }

        public string Id => "net0";

        public VirtioDeviceType DeviceType => VirtioDeviceType.Net;

        public ulong DeviceFeatures => 0;

        public IReadOnlyList<ushort> QueueMaxSizes => [16];

        public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions => [];

        public int ConfigSize => 0;

        public void ReadConfig(int offset, Span<byte> data)
        {
        }

        public void WriteConfig(int offset, ReadOnlySpan<byte> data)
        {
        }

        public void Activate(IVirtioDeviceContext context)
        {
        }

        public void ProcessQueue(int queueIndex)
        {
        }

        public void Reset()
        {
        }

        public void Dispose() => Disposed = true;
    }
}
