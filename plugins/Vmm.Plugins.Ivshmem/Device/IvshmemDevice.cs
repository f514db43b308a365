using System.Buffers.Binary;
using Vmm.Contracts.Display;
using Vmm.Contracts.Pci;
using Vmm.Plugins.Ivshmem.Display;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Device;

/// <summary>
/// An <c>ivshmem-plain</c> PCI device as QEMU presents it, so unmodified guest drivers (virtio-win's IVSHMEM driver,
/// Looking Glass's kvmfr module, <c>/sys/bus/pci/devices/*/resource2</c>) bind: 1af4:1110 revision 1, subsystem
/// 1af4:1100, class 0x050000 (RAM); BAR0 the 256-byte register block; BAR2 the shared memory, 64-bit prefetchable,
/// mapped by the platform straight from <see cref="SharedMemory"/>'s file. No MSI-X, no INTx (interrupt pin 0): Looking
/// Glass polls the memory.
/// </summary>
/// <remarks>
/// It is also a display source (IVSHMEM capture): with <see cref="IvshmemOptions.Capture"/> on, a
/// <see cref="KvmfrCaptureSource"/> reads the KVMFR frames a guest agent (ours, or Looking Glass's Windows host)
/// writes into BAR2 and hands them to the display router.
/// </remarks>
internal sealed class IvshmemDevice : IPciDevice, IDisplaySource
{
    /// <summary>Red Hat / Qumranet.</summary>
    public const ushort VendorId = 0x1AF4;

    /// <summary>The IVSHMEM device id.</summary>
    public const ushort DeviceId = 0x1110;

    /// <summary>The register block's BAR.</summary>
    public const int RegistersBar = 0;

    /// <summary>The shared memory's BAR.</summary>
    public const int SharedMemoryBar = 2;

    /// <summary>The identity QEMU gives <c>ivshmem-plain</c> (revision 1: the memory exists before BAR2 decodes).</summary>
    public static readonly PciDeviceIdentity PciIdentity = new(VendorId, DeviceId, 0x05, 0x00, 0x00, 0x01, VendorId, 0x1100);

    private readonly Lock _sync = new();
    private uint _interruptMask;
    private uint _interruptStatus;

    private readonly KvmfrCaptureSource? _capture;

    /// <summary>
    /// Creates the device over <paramref name="memory"/>, which it owns from now on; <paramref name="capture"/> (which
    /// it owns too) reads KVMFR frames from that memory, or is null for plain shared memory.
    /// </summary>
    public IvshmemDevice(string id, SharedMemoryFile memory, Func<SharedMemoryFile, KvmfrCaptureSource>? capture = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(memory);
        Id = id;
        SharedMemory = memory;
        _capture = capture?.Invoke(memory);
        Bars =
        [
            new PciBar(RegistersBar, IvshmemRegisters.Size, PciBarKind.Memory32),
            new PciBar(SharedMemoryBar, (ulong)memory.Size, PciBarKind.Memory64, Prefetchable: true, BackingFile: memory.Handle),
        ];
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public PciDeviceIdentity Identity => PciIdentity;

    /// <inheritdoc />
    public IReadOnlyList<PciBar> Bars { get; }

    /// <inheritdoc />
    public int MsixVectorCount => 0;

    /// <summary>The shared memory behind BAR2, mapped in this process too (what a capture source reads).</summary>
    internal SharedMemoryFile SharedMemory { get; }

    /// <summary>The KVMFR capture, or null when the options turned it off.</summary>
    internal KvmfrCaptureSource? Capture => _capture;

    /// <inheritdoc />
    public DisplayMode? CurrentMode => _capture?.CurrentMode;

    /// <inheritdoc />
    public void Connect(IDisplaySink sink) => _capture?.Connect(sink);

    /// <inheritdoc />
    public void Disconnect() => _capture?.Disconnect();

    /// <inheritdoc />
    public void ReadBar(int barIndex, ulong offset, Span<byte> data)
    {
        data.Clear();
        if (barIndex != RegistersBar || data.Length != IvshmemRegisters.AccessSize)
        {
            return;
        }

        uint value;
        lock (_sync)
        {
            switch (offset)
            {
                case IvshmemRegisters.InterruptMaskOffset:
                    value = _interruptMask;
                    break;
                case IvshmemRegisters.InterruptStatusOffset:
                    value = _interruptStatus;
                    _interruptStatus = 0;
                    break;
                default:
                    value = 0; // IVPosition (no interrupts: 0), the write-only doorbell, reserved
                    break;
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
    }

    /// <inheritdoc />
    public void WriteBar(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
        if (barIndex != RegistersBar || data.Length != IvshmemRegisters.AccessSize)
        {
            return;
        }

        uint value = BinaryPrimitives.ReadUInt32LittleEndian(data);
        lock (_sync)
        {
            switch (offset)
            {
                case IvshmemRegisters.InterruptMaskOffset:
                    _interruptMask = value;
                    break;
                case IvshmemRegisters.InterruptStatusOffset:
                    _interruptStatus = value;
                    break;
                default:
                    break; // IVPosition is read-only; the doorbell has no peers to ring
            }
        }
    }

    /// <inheritdoc />
    public void Activate(IPciDeviceContext context) => ArgumentNullException.ThrowIfNull(context);

    /// <inheritdoc />
    public void Reset()
    {
        lock (_sync)
        {
            _interruptMask = 0;
            _interruptStatus = 0;
        }
    }

    /// <summary>Stops the capture, unmaps the memory and closes its file (a host file stays for other users).</summary>
    public void Dispose()
    {
        _capture?.Dispose();
        SharedMemory.Dispose();
    }
}
