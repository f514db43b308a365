using System.Buffers.Binary;
using Vmm.Contracts.Virtio;
using Vmm.Core.Pci;
using Vmm.Core.Tests.InProcess;
using Vmm.Core.Virtio.Pci;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;
using Xunit;

namespace Vmm.Core.Tests.Virtio.Pci;

public sealed class VirtioPciTransportTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private readonly InProcessMachine _machine = new();

    public void Dispose() => _machine.Dispose();

    [Fact]
    public void Identity_bars_and_capabilities_match_the_modern_layout()
    {
        _machine.AttachVirtioDevice(new EchoDevice(type: VirtioDeviceType.Input));
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Input);
        var pci = new PciEnumerator(_machine);
        PciFunctionInfo function = driver.Function;

        Assert.Equal((ushort)0x1AF4, function.VendorId);
        Assert.Equal((ushort)(0x1040 + 18), function.DeviceId);
        Assert.Equal((byte)1, function.Revision);
        Assert.Equal(0x1AF4u, pci.ReadConfig(function.Device, 0x2C, 2));
        PciBarInfo bar0 = function.GetBar(0);
        Assert.Equal(Contracts.Pci.PciBarKind.Memory64, bar0.Kind);
        Assert.Equal(0x80000UL, bar0.Size);
        Assert.Equal(0UL, bar0.Address % bar0.Size);
        Assert.True(bar0.Address >= 1UL << 32);

        var types = function.Capabilities.Where(c => c.Id == 0x09).Select(c => ((byte)pci.ReadConfig(function.Device, c.Offset + 3, 1), (byte)pci.ReadConfig(function.Device, c.Offset + 2, 1))).ToArray();
        Assert.Equal([(1, 16), (2, 20), (3, 16), (4, 16), (5, 20)], types.Select(t => ((int)t.Item1, (int)t.Item2)));
        Assert.Contains(function.Capabilities, c => c.Id == 0x11);
        Assert.All(function.Capabilities, c => Assert.True(c.Offset + 24 <= 0x100));
        PciCapabilityInfo notify = function.Capabilities.First(c => c.Id == 0x09 && pci.ReadConfig(function.Device, c.Offset + 3, 1) == 2);
        Assert.Equal(4u, pci.ReadConfig(function.Device, notify.Offset + 16, 4));
        Assert.Equal(0x6000u, pci.ReadConfig(function.Device, notify.Offset + 8, 4));
        PciCapabilityInfo msix = function.Capabilities.First(c => c.Id == 0x11);
        Assert.Equal(1u, pci.ReadConfig(function.Device, msix.Offset + 2, 2) & 0x7FF); // 2 vectors: 1 queue + config
        Assert.Equal(0x8000u, pci.ReadConfig(function.Device, msix.Offset + 4, 4));
        Assert.Equal(0x48000u, pci.ReadConfig(function.Device, msix.Offset + 8, 4));
    }

    [Fact]
    public void No_device_config_capability_when_the_device_has_no_config()
    {
        _machine.AttachVirtioDevice(new EchoDevice { ConfigSize = 0 });
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        var pci = new PciEnumerator(_machine);
        Assert.DoesNotContain(driver.Function.Capabilities, c => c.Id == 0x09 && pci.ReadConfig(driver.Function.Device, c.Offset + 3, 1) == 4);
    }

    [Fact]
    public void Features_offer_adds_version_1_indirect_and_event_index()
    {
        _machine.AttachVirtioDevice(new EchoDevice());
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        driver.Reset();
        driver.AddStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver);
        Assert.True(driver.NegotiateFeatures(ulong.MaxValue));
        Assert.Equal(EchoDevice.FeatureBit | VirtioFeatures.Version1 | VirtioFeatures.RingIndirectDescriptors | VirtioFeatures.RingEventIndex, driver.DeviceFeatures);

        // Once FEATURES_OK stuck, driver_feature no longer changes.
        driver.WriteCommon(0x08, 4, 0);
        driver.WriteCommon(0x0C, 4, 0);
        Assert.Equal((uint)driver.NegotiatedFeatures, (uint)driver.ReadCommon(0x0C, 4));
    }

    [Theory]
    [InlineData(VirtioFeatures.Version1 | (1UL << 5))] // a bit the device did not offer
    [InlineData(EchoDevice.FeatureBit)] // no VERSION_1
    [InlineData(VirtioFeatures.Version1 | VirtioFeatures.RingPacked)]
    public void Features_ok_does_not_stick_for_unacceptable_features(ulong features)
    {
        _machine.AttachVirtioDevice(new EchoDevice());
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        driver.Reset();
        driver.AddStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver);

        Assert.False(driver.NegotiateFeatures(features, raw: true));
        Assert.Equal(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver, driver.ReadStatus());
        driver.AddStatus(VirtioDeviceStatus.DriverOk);
        Assert.Equal(0, driver.ReadStatus() & VirtioDeviceStatus.DriverOk);
    }

    [Fact]
    public void Status_machine_refuses_driver_ok_before_features_ok_and_ignores_cleared_bits()
    {
        var device = new EchoDevice();
        _machine.AttachVirtioDevice(device);
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        driver.Reset();
        driver.WriteStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.DriverOk);
        Assert.Equal(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver, driver.ReadStatus());

        driver.WriteStatus(VirtioDeviceStatus.Acknowledge);
        Assert.Equal(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver, driver.ReadStatus());

        // The driver cannot claim DEVICE_NEEDS_RESET.
        driver.AddStatus(VirtioDeviceStatus.DeviceNeedsReset);
        Assert.Equal(0, driver.ReadStatus() & VirtioDeviceStatus.DeviceNeedsReset);
        Assert.Null(device.Context);
    }

    [Fact]
    public void Reset_returns_every_queue_vector_and_register_to_its_initial_state()
    {
        var device = new EchoDevice();
        VirtioPciTransport transport = _machine.AttachVirtioDevice(device);
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        driver.Initialize();
        RoundTrip(driver, "before");
        int resets = device.ResetCount;

        driver.WriteStatus(0);

        Assert.Equal(0, driver.ReadStatus());
        Assert.Equal(resets + 1, device.ResetCount);
        Assert.Equal(0xFFFFul, driver.ReadCommon(0x10, 2));
        driver.WriteCommon(0x16, 2, 0);
        Assert.Equal(64ul, driver.ReadCommon(0x18, 2));
        Assert.Equal(0xFFFFul, driver.ReadCommon(0x1A, 2));
        Assert.Equal(0ul, driver.ReadCommon(0x1C, 2));
        Assert.Equal(0ul, driver.ReadCommon(0x20, 4));
        Assert.Equal(0ul, driver.ReadCommon(0x0C, 4));
        Assert.False(transport.Queues[0].IsReady);

        driver.Initialize();
        RoundTrip(driver, "after");
    }

    [Fact]
    public void Queue_configuration_is_validated()
    {
        _machine.AttachVirtioDevice(new EchoDevice());
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        driver.Reset();
        driver.AddStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver);
        Assert.True(driver.NegotiateFeatures(ulong.MaxValue));

        Assert.Equal(1ul, driver.ReadCommon(0x12, 2));
        driver.WriteCommon(0x16, 2, 0);
        driver.WriteCommon(0x18, 2, 48); // not a power of two
        Assert.Equal(64ul, driver.ReadCommon(0x18, 2));
        driver.WriteCommon(0x18, 2, 128); // above the maximum
        Assert.Equal(64ul, driver.ReadCommon(0x18, 2));
        driver.WriteCommon(0x18, 2, 16);
        Assert.Equal(16ul, driver.ReadCommon(0x18, 2));
        driver.WriteCommon(0x1A, 2, 2); // only vectors 0 and 1 exist
        Assert.Equal(0xFFFFul, driver.ReadCommon(0x1A, 2));
        driver.WriteCommon(0x10, 2, 9);
        Assert.Equal(0xFFFFul, driver.ReadCommon(0x10, 2));
        Assert.Equal(0ul, driver.ReadCommon(0x1E, 2));

        driver.WriteCommon(0x16, 2, 1); // no queue 1
        Assert.Equal(0ul, driver.ReadCommon(0x18, 2));
        Assert.Equal(0xFFFFul, driver.ReadCommon(0x1A, 2));
        driver.WriteCommon(0x1C, 2, 1);
        Assert.Equal(0ul, driver.ReadCommon(0x1C, 2));
    }

    [Fact]
    public void Misplaced_ring_puts_the_device_in_needs_reset()
    {
        _machine.AttachVirtioDevice(new EchoDevice());
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        driver.Reset();
        driver.AddStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver);
        Assert.True(driver.NegotiateFeatures(ulong.MaxValue));
        driver.WriteCommon(0x16, 2, 0);
        driver.WriteCommon(0x20, 4, 0xFFFF_F000); // far outside 64 MiB of RAM
        driver.WriteCommon(0x1C, 2, 1);

        Assert.Equal(0ul, driver.ReadCommon(0x1C, 2));
        Assert.NotEqual(0, driver.ReadStatus() & VirtioDeviceStatus.DeviceNeedsReset);
        driver.Reset();
        Assert.Equal(0, driver.ReadStatus());
    }

    [Fact]
    public void Queue_configuration_after_driver_ok_is_ignored()
    {
        _machine.AttachVirtioDevice(new EchoDevice());
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        driver.Initialize();
        ulong size = driver.ReadCommon(0x18, 2);
        driver.WriteCommon(0x18, 2, 2);
        driver.WriteCommon(0x20, 4, 0x1234_0000);
        Assert.Equal(size, driver.ReadCommon(0x18, 2));
        Assert.NotEqual(0x1234_0000ul, driver.ReadCommon(0x20, 4));
        RoundTrip(driver, "still fine");
    }

    [Fact]
    public void Throwing_device_needs_reset_and_other_devices_go_on()
    {
        var faulty = new EchoDevice("faulty");
        var healthy = new EchoDevice("healthy");
        _machine.AttachVirtioDevice(faulty);
        _machine.AttachVirtioDevice(healthy);
        VirtioPciDriver bad = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console, 0);
        VirtioPciDriver good = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console, 1);
        bad.Initialize();
        good.Initialize();

        faulty.ThrowOnNextRequest = true;
        GuestBuffer request = _machine.AllocateBuffer(4);
        bad.Submit(0, [request], [_machine.AllocateBuffer(4)]);

        Assert.True(bad.WaitForConfigInterrupt(s_timeout));
        Assert.NotEqual(0, bad.ReadStatus() & VirtioDeviceStatus.DeviceNeedsReset);
        Assert.Equal(2, bad.ReadIsr() & 2);
        RoundTrip(good, "unaffected");

        // Notifications to the failed device are ignored until the driver resets it; then it works again.
        bad.Kick(0);
        faulty.ThrowOnNextRequest = false;
        bad.Initialize();
        Assert.Equal(0, bad.ReadStatus() & VirtioDeviceStatus.DeviceNeedsReset);
        RoundTrip(bad, "recovered");
    }

    [Fact]
    public void Isr_is_read_to_clear_with_queue_and_config_bits()
    {
        var device = new EchoDevice();
        VirtioPciTransport transport = _machine.AttachVirtioDevice(device);
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        driver.Initialize();
        WaitForActivation(device);
        Assert.Equal(0, driver.ReadIsr());

        RoundTrip(driver, "x");
        Assert.Equal(1, driver.ReadIsr());
        Assert.Equal(0, driver.ReadIsr());

        transport.SignalConfigChanged();
        Assert.Equal(2, driver.ReadIsr());
        Assert.Equal(0, driver.ReadIsr());
    }

    [Fact]
    public void Config_generation_bumps_and_device_config_is_range_checked()
    {
        var device = new EchoDevice();
        _machine.AttachVirtioDevice(device);
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        driver.Initialize();
        byte generation = driver.ReadConfigGeneration();

        WaitForActivation(device).SignalConfigChanged();

        Assert.Equal((byte)(generation + 1), driver.ReadConfigGeneration());
        Assert.True(driver.WaitForConfigInterrupt(s_timeout));

        byte[] config = new byte[8];
        driver.WriteDeviceConfig(0, [1, 2, 3, 4, 0x78, 0x56, 0x34, 0x12]);
        driver.ReadDeviceConfig(0, config);
        Assert.Equal(EchoDevice.Magic, BinaryPrimitives.ReadUInt32LittleEndian(config));
        Assert.Equal(0x1234_5678u, BinaryPrimitives.ReadUInt32LittleEndian(config.AsSpan(4)));

        // Beyond ConfigSize: reads 0, writes dropped (a 4-byte access that straddles the end too).
        driver.ReadDeviceConfig(6, config.AsSpan(0, 4));
        Assert.Equal(new byte[] { 0x34, 0x12, 0, 0 }, config[..4]);
        ulong straddling = _machine.ReadMmio(driver.Function.GetBar(0).Address + 0x4006, 4);
        Assert.Equal(0ul, straddling);
    }

    [Fact]
    public void Shared_memory_regions_get_64_bit_caps_in_a_prefetchable_bar2()
    {
        const ulong size = 2UL << 20;
        VirtioPciTransport transport = _machine.AttachVirtioDevice(new EchoDevice
        {
            SharedMemoryRegions = [new SharedMemoryRegionRequest(1, size), new SharedMemoryRegionRequest(3, size)],
        });
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        PciBarInfo bar2 = driver.Function.GetBar(2);

        Assert.Equal(Contracts.Pci.PciBarKind.Memory64, bar2.Kind);
        Assert.True(bar2.Prefetchable);
        Assert.Equal(4UL << 20, bar2.Size);
        Assert.True(driver.TryFindSharedMemory(1, out ulong address, out ulong length));
        Assert.Equal((bar2.Address, size), (address, length));
        Assert.True(driver.TryFindSharedMemory(3, out address, out _));
        Assert.Equal(bar2.Address + size, address);
        Assert.False(driver.TryFindSharedMemory(0, out _, out _));

        driver.Initialize();
        Assert.True(WaitForActivation((EchoDevice)transport.Device).TryGetSharedMemory(1, out ISharedMemoryRegion? region));
        Assert.Equal(size, region.Size);
    }

    [Fact]
    public void Masked_queue_vector_leaves_the_interrupt_pending_in_the_pba()
    {
        _machine.AttachVirtioDevice(new EchoDevice());
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        driver.Initialize();
        ulong bar0 = driver.Function.GetBar(0).Address;
        _machine.WriteMmio(bar0 + 0x8000 + 16 + 12, 4, 1); // mask vector 1 (queue 0)
        long before = _machine.Msi.GetSignalCount(driver.ConfigInterruptVector + 1);

        driver.Submit(0, [_machine.AllocateBuffer(1)], [_machine.AllocateBuffer(1)]);
        SpinWait.SpinUntil(() => (_machine.ReadMmio(bar0 + 0x48000, 8) & 2) != 0, s_timeout);

        Assert.Equal(2ul, _machine.ReadMmio(bar0 + 0x48000, 8));
        Assert.Equal(before, _machine.Msi.GetSignalCount(driver.ConfigInterruptVector + 1));
        _machine.WriteMmio(bar0 + 0x8000 + 16 + 12, 4, 0);
        Assert.Equal(0ul, _machine.ReadMmio(bar0 + 0x48000, 8));
        Assert.Equal(1u, driver.WaitForUsed(0, s_timeout).Length);
    }

    [Fact]
    public void Pci_cfg_capability_reaches_bar0_through_config_space()
    {
        _machine.AttachVirtioDevice(new EchoDevice());
        VirtioPciDriver driver = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console);
        var pci = new PciEnumerator(_machine);
        int device = driver.Function.Device;
        PciCapabilityInfo cap = driver.Function.Capabilities.First(c => c.Id == 0x09 && pci.ReadConfig(device, c.Offset + 3, 1) == 5);

        pci.WriteConfig(device, cap.Offset + 4, 1, 0);
        pci.WriteConfig(device, cap.Offset + 8, 4, 0x12);
        pci.WriteConfig(device, cap.Offset + 12, 4, 2);
        Assert.Equal(1u, pci.ReadConfig(device, cap.Offset + 16, 2)); // num_queues
    }

    [Fact]
    public void Driver_works_after_the_guest_reassigns_every_bar()
    {
        _machine.AttachVirtioDevice(new EchoDevice());
        var moves = new List<PciBarMovedEventArgs>();
        _machine.Pci.BarMoved += (_, e) => moves.Add(e);
        var pci = new PciEnumerator(_machine);
        PciFunctionInfo function = pci.Enumerate(new PciBarAllocator(new PciWindows(0xC000_0000, 0xE000_0000, 0x30_0000_0000, 0x40_0000_0000, 0x2000, 0x1_0000))).Single(f => f.VendorId == 0x1AF4);
        pci.Enable(function.Device);

        Assert.Equal(0x30_0000_0000UL, function.GetBar(0).Address);
        Assert.Contains(moves, m => m.NewAddress == 0x30_0000_0000UL && m.Bar.Index == 0);
        var driver = new VirtioPciDriver(_machine, function);
        driver.Initialize();
        RoundTrip(driver, "moved");
    }

    private static IVirtioDeviceContext WaitForActivation(EchoDevice device)
    {
        // DRIVER_OK activates the device on its worker, asynchronously, as on a real VMM.
        Assert.True(SpinWait.SpinUntil(() => device.Context is not null, s_timeout));
        return device.Context!;
    }

    private void RoundTrip(VirtioPciDriver driver, string text) => EchoDevice.RoundTrip(_machine, driver, text, s_timeout);
}
