using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Pci;
using Vmm.Contracts.Virtio;
using Vmm.Core.Interrupts;
using Vmm.Core.Memory;
using Vmm.Core.Pci;
using Vmm.Core.Virtio.Execution;
using Vmm.Core.Virtio.Queues;

namespace Vmm.Core.Virtio.Pci;

/// <summary>
/// The modern virtio-pci transport (virtio 1.2 §4.1) for one <see cref="IVirtioDevice"/>: its PCI function
/// (vendor 0x1AF4, device 0x1040 + type), BAR0 with common config, ISR, device config, doorbells and MSI-X, and
/// BAR2 with the shared-memory regions. It owns feature negotiation, the status state machine, queue set-up and
/// interrupts; the device runs on its own <see cref="VirtioDeviceWorker"/>.
/// </summary>
public sealed partial class VirtioPciTransport : IPciFunction, IDisposable
{
    private readonly object _lock = new();
    private readonly IGuestMemory _memory;
    private readonly ILogger _logger;
    private readonly SplitVirtqueue[] _queues;
    private readonly ushort[] _queueVectors;
    private readonly ISharedMemoryRegion[] _sharedMemory;
    private readonly ulong[] _sharedMemoryOffsets;
    private int _isr;
    private int _configGeneration;
    private int _needsReset;
    private ushort _configVector = VirtioPciLayout.NoVector;

    /// <summary>Builds the transport for <paramref name="device"/>; MSI-X vectors come from <paramref name="msiController"/>.</summary>
    public VirtioPciTransport(IVirtioDevice device, IGuestMemory memory, IMsiController msiController, VirtioPciTransportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(msiController);
        options ??= new VirtioPciTransportOptions();
        ILoggerFactory loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        int queueCount = device.QueueMaxSizes.Count;
        if (queueCount is < 1 or > 1024)
        {
            throw new ArgumentException($"Virtio device '{device.Id}' declares {queueCount} queues; 1 to 1024 are supported.", nameof(device));
        }

        if (device.ConfigSize is < 0 or > (int)VirtioPciLayout.DeviceConfigLength)
        {
            throw new ArgumentException($"Virtio device '{device.Id}' has a config space of {device.ConfigSize} bytes; at most 4096 fit.", nameof(device));
        }

        Device = device;
        _memory = memory;
        _logger = loggerFactory.CreateLogger<VirtioPciTransport>();
        OfferedFeatures = device.DeviceFeatures | VirtioFeatures.Version1 | VirtioFeatures.RingIndirectDescriptors | VirtioFeatures.RingEventIndex;

        _queues = new SplitVirtqueue[queueCount];
        _queueVectors = new ushort[queueCount];
        for (int i = 0; i < queueCount; i++)
        {
            _queues[i] = new SplitVirtqueue(memory, i, device.QueueMaxSizes[i], new VirtioPciQueueInterrupt(this, i));
            _queueVectors[i] = VirtioPciLayout.NoVector;
        }

        Msix = new MsixTable(queueCount + 1, msiController);
        (_sharedMemory, _sharedMemoryOffsets, SharedMemoryBarSize) = CreateSharedMemory(device, options.SharedMemoryFactory);

        ushort type = (ushort)device.DeviceType;
        ConfigSpace = new PciConfigSpace(new PciDeviceIdentity(
            VirtioPciLayout.VendorId,
            (ushort)(VirtioPciLayout.DeviceIdBase + type),
            ClassCodeFor(device.DeviceType),
            0x00,
            0x00,
            0x01,
            VirtioPciLayout.VendorId,
            0x0040));
        BuildConfigSpace();

        Worker = options.SynchronousWorker ? VirtioDeviceWorker.CreateSynchronous(device, loggerFactory) : new VirtioDeviceWorker(device, loggerFactory, options.Limits ?? DeviceLimits.Default);
        Worker.Failed += OnDeviceFailed;
    }

    /// <summary>The device behind the transport.</summary>
    public IVirtioDevice Device { get; }

    /// <inheritdoc />
    public PciConfigSpace ConfigSpace { get; }

    /// <summary>The MSI-X table: one vector per queue plus one for config changes.</summary>
    public MsixTable Msix { get; }

    /// <summary>The device's worker thread.</summary>
    public VirtioDeviceWorker Worker { get; }

    /// <summary>The features offered: the device's bits, VERSION_1, INDIRECT_DESC and EVENT_IDX.</summary>
    public ulong OfferedFeatures { get; }

    /// <summary>The queues, by index.</summary>
    public IReadOnlyList<SplitVirtqueue> Queues => _queues;

    /// <summary>The shared-memory regions, in the order the device asked for them (offsets in BAR2 follow that order).</summary>
    public IReadOnlyList<ISharedMemoryRegion> SharedMemory => _sharedMemory;

    /// <summary>BAR2's size (0 when the device wants no shared memory).</summary>
    public ulong SharedMemoryBarSize { get; }

    /// <summary>The device status as the driver reads it.</summary>
    public byte DeviceStatus
    {
        get
        {
            lock (_lock)
            {
                return ReadStatusLocked();
            }
        }
    }

    /// <summary>The ISR bits not yet read by the driver.</summary>
    public int PendingIsr => Volatile.Read(ref _isr);

    /// <summary>The offset of shared-memory region <paramref name="index"/> inside BAR2.</summary>
    public ulong GetSharedMemoryOffset(int index) => _sharedMemoryOffsets[index];

    /// <inheritdoc />
    public void ReadBar(int barIndex, ulong offset, Span<byte> data)
    {
        if (barIndex != VirtioPciLayout.RegistersBar)
        {
            data.Fill(0xFF);
            return;
        }

        switch (offset)
        {
            case < VirtioPciLayout.IsrOffset:
                ReadCommonConfig(offset - VirtioPciLayout.CommonConfigOffset, data);
                break;
            case < VirtioPciLayout.DeviceConfigOffset:
                data.Clear();
                if (offset == VirtioPciLayout.IsrOffset)
                {
                    // Reading the ISR acknowledges it (virtio 1.2 §4.1.4.5).
                    data[0] = (byte)Interlocked.Exchange(ref _isr, 0);
                }

                break;
            case < VirtioPciLayout.NotifyOffset:
                ReadDeviceConfig(offset - VirtioPciLayout.DeviceConfigOffset, data);
                break;
            case < VirtioPciLayout.MsixTableOffset:
                data.Clear();
                break;
            case < VirtioPciLayout.MsixPendingBitArrayOffset:
                Msix.ReadTable(offset - VirtioPciLayout.MsixTableOffset, data);
                break;
            default:
                Msix.ReadPendingBitArray(offset - VirtioPciLayout.MsixPendingBitArrayOffset, data);
                break;
        }
    }

    /// <inheritdoc />
    public void WriteBar(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
        if (barIndex != VirtioPciLayout.RegistersBar)
        {
            return;
        }

        switch (offset)
        {
            case < VirtioPciLayout.IsrOffset:
                WriteCommonConfig(offset - VirtioPciLayout.CommonConfigOffset, data);
                break;
            case < VirtioPciLayout.DeviceConfigOffset:
                break;
            case < VirtioPciLayout.NotifyOffset:
                WriteDeviceConfig(offset - VirtioPciLayout.DeviceConfigOffset, data);
                break;
            case < VirtioPciLayout.MsixTableOffset:
                Notify(offset - VirtioPciLayout.NotifyOffset);
                break;
            case < VirtioPciLayout.MsixPendingBitArrayOffset:
                Msix.WriteTable(offset - VirtioPciLayout.MsixTableOffset, data);
                break;
            default:
                break;
        }
    }

    /// <summary>A doorbell at <paramref name="notifyOffset"/> (what an ioeventfd for that address also reaches).</summary>
    public void Notify(ulong notifyOffset)
    {
        ulong queue = notifyOffset / VirtioPciLayout.NotifyOffMultiplier;
        if (queue < (ulong)_queues.Length)
        {
            Worker.Notify((int)queue);
        }
    }

    /// <summary>Raises queue <paramref name="queueIndex"/>'s interrupt: ISR bit 0 and its MSI-X vector.</summary>
    public void SignalQueue(int queueIndex)
    {
        Interlocked.Or(ref _isr, 1);
        ushort vector = Volatile.Read(ref _queueVectors[queueIndex]);
        if (vector != VirtioPciLayout.NoVector)
        {
            Msix.Signal(vector);
        }
    }

    /// <summary>The device config changed: bump config_generation, ISR bit 1, config vector.</summary>
    public void SignalConfigChanged()
    {
        Interlocked.Increment(ref _configGeneration);
        RaiseConfigInterrupt();
    }

    /// <summary>Stops the worker and releases the vectors and shared memory the transport created.</summary>
    public void Dispose()
    {
        try
        {
            // A device may run work on threads of its own (virtio-fs request queues): the reset makes it stop
            // touching its queues and guest memory before the memory can go away.
            Worker.Reset();
        }
        catch (ObjectDisposedException)
        {
            // Disposed before.
        }

        Worker.Dispose();
        Msix.Dispose();
        foreach (ISharedMemoryRegion region in _sharedMemory)
        {
            (region as IDisposable)?.Dispose();
        }
    }

    private void RaiseConfigInterrupt()
    {
        Interlocked.Or(ref _isr, 2);
        ushort vector = Volatile.Read(ref _configVector);
        if (vector != VirtioPciLayout.NoVector)
        {
            Msix.Signal(vector);
        }
    }

    private void OnDeviceFailed(Exception exception)
    {
        // Runs on the worker: no transport lock here (a reset may be waiting for the worker while holding it).
        Volatile.Write(ref _needsReset, 1);
        RaiseConfigInterrupt();
    }

    private void ReadDeviceConfig(ulong offset, Span<byte> data)
    {
        if (offset + (ulong)data.Length > (ulong)Device.ConfigSize)
        {
            data.Clear();
            return;
        }

        Device.ReadConfig((int)offset, data);
    }

    private void WriteDeviceConfig(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset + (ulong)data.Length <= (ulong)Device.ConfigSize)
        {
            Device.WriteConfig((int)offset, data);
        }
    }

    private void BuildConfigSpace()
    {
        ConfigSpace.AddBar(new PciBarDefinition(VirtioPciLayout.RegistersBar, VirtioPciLayout.RegistersBarSize, PciBarKind.Memory64));
        if (SharedMemoryBarSize != 0)
        {
            ConfigSpace.AddBar(new PciBarDefinition(VirtioPciLayout.SharedMemoryBar, SharedMemoryBarSize, PciBarKind.Memory64, Prefetchable: true, Emulated: false));
        }

        const int bar = VirtioPciLayout.RegistersBar;
        ConfigSpace.AddCapability(VirtioPciCapability.Create(VirtioPciCapabilityType.CommonConfig, bar, VirtioPciLayout.CommonConfigOffset, VirtioPciLayout.CommonConfigLength));
        ConfigSpace.AddCapability(VirtioPciCapability.CreateNotify(bar, VirtioPciLayout.NotifyOffset, VirtioPciLayout.NotifyLength, VirtioPciLayout.NotifyOffMultiplier));
        ConfigSpace.AddCapability(VirtioPciCapability.Create(VirtioPciCapabilityType.IsrConfig, bar, VirtioPciLayout.IsrOffset, 1));
        if (Device.ConfigSize > 0)
        {
            ConfigSpace.AddCapability(VirtioPciCapability.Create(VirtioPciCapabilityType.DeviceConfig, bar, VirtioPciLayout.DeviceConfigOffset, (uint)Device.ConfigSize));
        }

        for (int i = 0; i < _sharedMemory.Length; i++)
        {
            ConfigSpace.AddCapability(VirtioPciCapability.CreateSharedMemory(VirtioPciLayout.SharedMemoryBar, _sharedMemory[i].Id, _sharedMemoryOffsets[i], _sharedMemory[i].Size));
        }

        ConfigSpace.AddCapability(new VirtioPciConfigAccessCapability(this));
        ConfigSpace.AddCapability(new MsixCapability(Msix, bar, (uint)VirtioPciLayout.MsixTableOffset, (uint)VirtioPciLayout.MsixPendingBitArrayOffset));
    }

    private static (ISharedMemoryRegion[] Regions, ulong[] Offsets, ulong BarSize) CreateSharedMemory(
        IVirtioDevice device, Func<SharedMemoryRegionRequest, ISharedMemoryRegion>? factory)
    {
        IReadOnlyList<SharedMemoryRegionRequest> requests = device.SharedMemoryRegions;
        var regions = new ISharedMemoryRegion[requests.Count];
        var offsets = new ulong[requests.Count];
        ulong next = 0;
        for (int i = 0; i < requests.Count; i++)
        {
            SharedMemoryRegionRequest request = requests[i];
            if (request.Size == 0 || request.Size % 4096 != 0)
            {
                throw new ArgumentException($"Virtio device '{device.Id}': shared-memory region {request.Id} has size 0x{request.Size:x}; it must be a non-zero multiple of 4 KiB.", nameof(device));
            }

            regions[i] = factory is null ? new SharedMemoryWindow(request.Id, request.Size) : factory(request);
            offsets[i] = next;
            next += request.Size;
        }

        return (regions, offsets, next == 0 ? 0 : ulong.Max(System.Numerics.BitOperations.RoundUpToPowerOf2(next), 4096));
    }

    private static byte ClassCodeFor(VirtioDeviceType type) => type switch
    {
        VirtioDeviceType.Net => 0x02,
        VirtioDeviceType.Block => 0x01,
        VirtioDeviceType.Gpu => 0x03,
        VirtioDeviceType.Input => 0x09,
        _ => 0xFF,
    };
}
