using System.Buffers.Binary;
using Vmm.Contracts.Virtio;
using Vmm.Core.Pci;
using Vmm.Core.Virtio.Pci;
using Vmm.Testing.InProcess;
using Vmm.Testing.Virtio;

namespace Vmm.Testing.Driver;

/// <summary>
/// A guest-side virtio-pci (modern) driver in C#, doing what Linux's virtio_pci and virtio_ring do, through
/// configuration cycles on ports 0xCF8/0xCFC and MMIO on the device's BARs. <see cref="Open"/> plus
/// <see cref="Initialize"/> bring a device to DRIVER_OK; the step methods let tests stop anywhere on the way.
/// Not thread-safe: one test thread drives it.
/// </summary>
public sealed class VirtioPciDriver
{
    private readonly InProcessMachine _machine;
    private readonly PciEnumerator _pci;
    private readonly DriverVirtqueue?[] _queues;
    private readonly ulong _commonConfig;
    private readonly ulong _isr;
    private readonly ulong _deviceConfig;
    private readonly ulong _notifyBase;
    private readonly uint _notifyOffMultiplier;
    private readonly int _msixCapability;
    private readonly ulong _msixTable;
    private readonly ushort _msixTableSize;
    private readonly uint _firstVector;
    private readonly ulong[] _notifyAddresses;
    private long _configInterruptsSeen;

    /// <summary>Binds to the function <paramref name="function"/> found by a <see cref="PciEnumerator"/> (decoding enabled).</summary>
    public VirtioPciDriver(InProcessMachine machine, PciFunctionInfo function)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(function);
        _machine = machine;
        _pci = new PciEnumerator(machine);
        Function = function;
        if (function.VendorId != VirtioPciLayout.VendorId || function.DeviceId < VirtioPciLayout.DeviceIdBase || function.DeviceId > 0x107F)
        {
            throw new VirtioDriverException($"00:{function.Device:x2}.0 ({function.VendorId:x4}:{function.DeviceId:x4}) is not a modern virtio device.");
        }

        ulong? common = null, isr = null, notify = null;
        foreach (PciCapabilityInfo capability in function.Capabilities)
        {
            if (capability.Id == PciIds.CapabilityMsix)
            {
                _msixCapability = capability.Offset;
                _msixTableSize = (ushort)((ReadConfig(capability.Offset + 2, 2) & 0x7FF) + 1);
                uint table = ReadConfig(capability.Offset + 4, 4);
                _msixTable = function.GetBar((int)(table & 7)).Address + (table & ~7u);
                continue;
            }

            if (capability.Id != PciIds.CapabilityVendorSpecific)
            {
                continue;
            }

            var type = (VirtioPciCapabilityType)ReadConfig(capability.Offset + 3, 1);
            int bar = (int)ReadConfig(capability.Offset + 4, 1);
            if (bar > 5)
            {
                continue;
            }

            ulong address = function.GetBar(bar).Address + ReadConfig(capability.Offset + 8, 4);
            switch (type)
            {
                case VirtioPciCapabilityType.CommonConfig:
                    common ??= address;
                    break;
                case VirtioPciCapabilityType.NotifyConfig:
                    notify ??= address;
                    _notifyOffMultiplier = ReadConfig(capability.Offset + 16, 4);
                    break;
                case VirtioPciCapabilityType.IsrConfig:
                    isr ??= address;
                    break;
                case VirtioPciCapabilityType.DeviceConfig:
                    _deviceConfig = _deviceConfig == 0 ? address : _deviceConfig;
                    break;
                default:
                    break;
            }
        }

        if (common is null || isr is null || notify is null || _msixCapability == 0)
        {
            throw new VirtioDriverException($"00:{function.Device:x2}.0 is missing a capability (common, ISR, notify and MSI-X are required).");
        }

        _commonConfig = common.Value;
        _isr = isr.Value;
        _notifyBase = notify.Value;
        if ((ReadConfig(PciIds.CommandOffset, 2) & PciIds.CommandMemorySpace) == 0)
        {
            throw new VirtioDriverException($"00:{function.Device:x2}.0 does not decode memory; call PciEnumerator.Enable first.");
        }

        QueueCount = (int)ReadCommon(0x12, 2);
        _queues = new DriverVirtqueue?[QueueCount];
        _notifyAddresses = new ulong[QueueCount];
        _firstVector = machine.Msi.AllocateVectors(_msixTableSize);
    }

    /// <summary>The PCI function the driver is bound to.</summary>
    public PciFunctionInfo Function { get; }

    /// <summary>num_queues.</summary>
    public int QueueCount { get; }

    /// <summary>The features the device offered (after <see cref="NegotiateFeatures"/>).</summary>
    public ulong DeviceFeatures { get; private set; }

    /// <summary>The features both sides agreed on.</summary>
    public ulong NegotiatedFeatures { get; private set; }

    /// <summary>The MSI data (interrupt vector) of the config-change interrupt.</summary>
    public uint ConfigInterruptVector => _firstVector;

    /// <summary>
    /// Enumerates bus 0, finds the <paramref name="instance"/>-th device of <paramref name="type"/>, enables its
    /// decoding and bus mastering, and binds a driver to it (nothing is written to the device yet).
    /// </summary>
    public static VirtioPciDriver Open(InProcessMachine machine, VirtioDeviceType type, int instance = 0)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var pci = new PciEnumerator(machine);
        ushort deviceId = (ushort)(VirtioPciLayout.DeviceIdBase + (ushort)type);
        PciFunctionInfo[] matches = [.. pci.Enumerate().Where(f => f.VendorId == VirtioPciLayout.VendorId && f.DeviceId == deviceId)];
        if (instance >= matches.Length)
        {
            throw new VirtioDriverException($"No virtio {type} device #{instance} on bus 0 (found {matches.Length}).");
        }

        pci.Enable(matches[instance].Device);
        return new VirtioPciDriver(machine, matches[instance]);
    }

    /// <summary>
    /// The whole bring-up: reset, ACKNOWLEDGE, DRIVER, features (<paramref name="wantedFeatures"/> masked by the
    /// offer), FEATURES_OK, MSI-X, every queue, DRIVER_OK.
    /// </summary>
    /// <exception cref="VirtioDriverException">The device refused a step.</exception>
    public void Initialize(ulong wantedFeatures = ulong.MaxValue)
    {
        Reset();
        AddStatus(VirtioDeviceStatus.Acknowledge);
        AddStatus(VirtioDeviceStatus.Driver);
        if (!NegotiateFeatures(wantedFeatures))
        {
            AddStatus(VirtioDeviceStatus.Failed);
            throw new VirtioDriverException($"The device refused features 0x{NegotiatedFeatures:x}.");
        }

        EnableMsix();
        for (int queue = 0; queue < QueueCount; queue++)
        {
            SetupQueue(queue);
        }

        AddStatus(VirtioDeviceStatus.DriverOk);
    }

    /// <summary>Writes 0 to device_status and waits for it to read 0 (vp_modern_set_status + vp_reset).</summary>
    public void Reset()
    {
        WriteStatus(0);
        for (int i = 0; ReadStatus() != 0; i++)
        {
            if (i > 10_000)
            {
                throw new VirtioDriverException("The device did not finish its reset.");
            }

            Thread.Sleep(1);
        }

        Array.Clear(_queues);
    }

    /// <summary>device_status.</summary>
    public byte ReadStatus() => (byte)ReadCommon(0x14, 1);

    /// <summary>Writes device_status.</summary>
    public void WriteStatus(byte status) => WriteCommon(0x14, 1, status);

    /// <summary>Sets <paramref name="bits"/> in device_status on top of what it holds.</summary>
    public void AddStatus(byte bits) => WriteStatus((byte)(ReadStatus() | bits));

    /// <summary>
    /// Reads the offer, writes <paramref name="wanted"/> &amp; offer (VERSION_1 forced unless <paramref name="raw"/>),
    /// sets FEATURES_OK and reads it back. Returns whether FEATURES_OK stuck.
    /// </summary>
    public bool NegotiateFeatures(ulong wanted, bool raw = false)
    {
        WriteCommon(0x00, 4, 0);
        ulong offered = ReadCommon(0x04, 4);
        WriteCommon(0x00, 4, 1);
        offered |= ReadCommon(0x04, 4) << 32;
        DeviceFeatures = offered;
        NegotiatedFeatures = raw ? wanted : (wanted & offered) | VirtioFeatures.Version1;
        WriteCommon(0x08, 4, 0);
        WriteCommon(0x0C, 4, (uint)NegotiatedFeatures);
        WriteCommon(0x08, 4, 1);
        WriteCommon(0x0C, 4, (uint)(NegotiatedFeatures >> 32));
        AddStatus(VirtioDeviceStatus.FeaturesOk);
        return (ReadStatus() & VirtioDeviceStatus.FeaturesOk) != 0;
    }

    /// <summary>
    /// Programs every MSI-X entry (address 0xFEE00000, data = vector), unmasks it, enables MSI-X, and assigns the
    /// config vector (vp_find_vqs_msix). Queue vectors are assigned in <see cref="SetupQueue"/>.
    /// </summary>
    public void EnableMsix()
    {
        for (int entry = 0; entry < _msixTableSize; entry++)
        {
            ulong address = _msixTable + ((ulong)entry * 16);
            _machine.WriteMmio(address, 4, 0xFEE0_0000);
            _machine.WriteMmio(address + 4, 4, 0);
            _machine.WriteMmio(address + 8, 4, _firstVector + (uint)entry);
            _machine.WriteMmio(address + 12, 4, 0);
        }

        uint control = ReadConfig(_msixCapability + 2, 2);
        _pci.WriteConfig(Function.Device, _msixCapability + 2, 2, (control | 0x8000) & ~0x4000u);
        WriteCommon(0x10, 2, 0);
        if (ReadCommon(0x10, 2) != 0)
        {
            throw new VirtioDriverException("The device refused MSI-X vector 0 for config changes.");
        }
    }

    /// <summary>
    /// Sets up queue <paramref name="queue"/> (vp_modern setup_vq): select, read the maximum, choose a size,
    /// allocate the rings, write their addresses and the vector (read back), enable.
    /// </summary>
    public DriverVirtqueue SetupQueue(int queue, ushort? size = null)
    {
        WriteCommon(0x16, 2, (ushort)queue);
        ushort max = (ushort)ReadCommon(0x18, 2);
        if (max == 0)
        {
            throw new VirtioDriverException($"Queue {queue} is not available.");
        }

        ushort chosen = size ?? max;
        WriteCommon(0x18, 2, chosen);
        bool eventIndex = (NegotiatedFeatures & VirtioFeatures.RingEventIndex) != 0;
        bool indirect = (NegotiatedFeatures & VirtioFeatures.RingIndirectDescriptors) != 0;
        var ring = new DriverVirtqueue(_machine.Memory, _machine.Allocator, chosen, eventIndex, indirect);
        WriteCommon(0x20, 4, (uint)ring.DescriptorTableAddress);
        WriteCommon(0x24, 4, (uint)(ring.DescriptorTableAddress >> 32));
        WriteCommon(0x28, 4, (uint)ring.AvailableRingAddress);
        WriteCommon(0x2C, 4, (uint)(ring.AvailableRingAddress >> 32));
        WriteCommon(0x30, 4, (uint)ring.UsedRingAddress);
        WriteCommon(0x34, 4, (uint)(ring.UsedRingAddress >> 32));
        ushort vector = (ushort)(queue + 1);
        WriteCommon(0x1A, 2, vector);
        if (ReadCommon(0x1A, 2) != vector)
        {
            throw new VirtioDriverException($"The device refused MSI-X vector {vector} for queue {queue}.");
        }

        // The doorbell's address is fixed once the queue is set up; Linux maps it here too (vp_modern_map_vq_notify).
        _notifyAddresses[queue] = _notifyBase + (ReadCommon(0x1E, 2) * _notifyOffMultiplier);
        WriteCommon(0x1C, 2, 1);
        _queues[queue] = ring;
        return ring;
    }

    /// <summary>The driver side of queue <paramref name="queue"/>.</summary>
    public DriverVirtqueue GetQueue(int queue)
        => _queues[queue] ?? throw new InvalidOperationException($"Queue {queue} is not set up.");

    /// <summary>Posts a request and kicks the device if it wants a notification. Returns the head id.</summary>
    public ushort Submit(int queue, ReadOnlySpan<GuestBuffer> readable, ReadOnlySpan<GuestBuffer> writable, bool useIndirect = false)
    {
        DriverVirtqueue ring = GetQueue(queue);
        ushort head = ring.Add(readable, writable, useIndirect);
        if (ring.KickNeeded())
        {
            Kick(queue);
        }

        return head;
    }

    /// <summary>Writes the queue index to its doorbell (one MMIO write: the address was found when the queue was set up).</summary>
    public void Kick(int queue)
    {
        GetQueue(queue);
        _machine.WriteMmio(_notifyAddresses[queue], 2, (ushort)queue);
    }

    /// <summary>
    /// Waits on the queue's MSI-X vector until the device returns a request, and reaps it.
    /// </summary>
    /// <exception cref="TimeoutException">Nothing came back in time.</exception>
    public (ushort Head, uint Length) WaitForUsed(int queue, TimeSpan timeout)
    {
        DriverVirtqueue ring = GetQueue(queue);
        uint vector = _firstVector + 1 + (uint)queue;
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            long seen = _machine.Msi.GetSignalCount(vector);
            if (ring.TryGetUsed(out ushort head, out uint length))
            {
                return (head, length);
            }

            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0 || !_machine.Msi.WaitForSignal(vector, seen, TimeSpan.FromMilliseconds(remaining)))
            {
                if (ring.TryGetUsed(out head, out length))
                {
                    return (head, length);
                }

                throw new TimeoutException($"Queue {queue} returned nothing within {timeout} (device status 0x{ReadStatus():x2}).");
            }
        }
    }

    /// <summary>Waits for a config-change interrupt newer than the last one this method saw.</summary>
    public bool WaitForConfigInterrupt(TimeSpan timeout)
    {
        if (!_machine.Msi.WaitForSignal(_firstVector, _configInterruptsSeen, timeout))
        {
            return false;
        }

        _configInterruptsSeen = _machine.Msi.GetSignalCount(_firstVector);
        return true;
    }

    /// <summary>Reads (and so clears) the ISR status byte.</summary>
    public byte ReadIsr() => (byte)_machine.ReadMmio(_isr, 1);

    /// <summary>config_generation.</summary>
    public byte ReadConfigGeneration() => (byte)ReadCommon(0x15, 1);

    /// <summary>Reads device config consistently: retried while config_generation changes (virtio_cread_bytes).</summary>
    public void ReadDeviceConfig(int offset, Span<byte> destination)
    {
        if (_deviceConfig == 0)
        {
            throw new InvalidOperationException("The device has no device-specific config.");
        }

        byte before;
        byte after;
        do
        {
            before = ReadConfigGeneration();
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = (byte)_machine.ReadMmio(_deviceConfig + (ulong)(offset + i), 1);
            }

            after = ReadConfigGeneration();
        }
        while (before != after);
    }

    /// <summary>Writes device config byte by byte.</summary>
    public void WriteDeviceConfig(int offset, ReadOnlySpan<byte> source)
    {
        if (_deviceConfig == 0)
        {
            throw new InvalidOperationException("The device has no device-specific config.");
        }

        for (int i = 0; i < source.Length; i++)
        {
            _machine.WriteMmio(_deviceConfig + (ulong)(offset + i), 1, source[i]);
        }
    }

    /// <summary>
    /// Finds shared-memory region <paramref name="id"/> as Linux's virtio_pci_find_shm_cap does: a
    /// VIRTIO_PCI_CAP_SHARED_MEMORY_CFG capability of exactly 24 bytes, inside its BAR.
    /// </summary>
    public bool TryFindSharedMemory(byte id, out ulong address, out ulong length)
    {
        foreach (PciCapabilityInfo capability in Function.Capabilities)
        {
            if (capability.Id != PciIds.CapabilityVendorSpecific
                || ReadConfig(capability.Offset + 3, 1) != (uint)VirtioPciCapabilityType.SharedMemoryConfig
                || ReadConfig(capability.Offset + 2, 1) != 24
                || ReadConfig(capability.Offset + 5, 1) != id)
            {
                continue;
            }

            int bar = (int)ReadConfig(capability.Offset + 4, 1);
            ulong offset = ReadConfig(capability.Offset + 8, 4) | ((ulong)ReadConfig(capability.Offset + 16, 4) << 32);
            length = ReadConfig(capability.Offset + 12, 4) | ((ulong)ReadConfig(capability.Offset + 20, 4) << 32);
            PciBarInfo info = Function.GetBar(bar);
            if (offset + length < offset || offset + length > info.Size)
            {
                continue;
            }

            address = info.Address + offset;
            return true;
        }

        address = 0;
        length = 0;
        return false;
    }

    /// <summary>Reads a common-config register of 1, 2 or 4 bytes.</summary>
    public ulong ReadCommon(int offset, int size) => _machine.ReadMmio(_commonConfig + (ulong)offset, size);

    /// <summary>Writes a common-config register of 1, 2 or 4 bytes.</summary>
    public void WriteCommon(int offset, int size, ulong value) => _machine.WriteMmio(_commonConfig + (ulong)offset, size, value);

    private uint ReadConfig(int offset, int size) => _pci.ReadConfig(Function.Device, offset, size);
}
