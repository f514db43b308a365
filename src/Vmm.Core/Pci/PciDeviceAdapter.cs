using Vmm.Contracts.Memory;
using Vmm.Contracts.Pci;
using Vmm.Core.Interrupts;

namespace Vmm.Core.Pci;

/// <summary>
/// Puts a plugin's <see cref="IPciDevice"/> (a non-virtio device such as IVSHMEM) in a PCI slot: its identity and
/// BARs become a configuration header, MSI-X gets a table and PBA in a 32-bit BAR of its own, and emulated BAR
/// accesses go to the device. BARs with a backing file are not emulated: the platform maps the file where
/// <see cref="PciRoot.BarMoved"/> says.
/// </summary>
public sealed class PciDeviceAdapter : IPciFunction, IPciDeviceContext, IDisposable
{
    private const ulong PendingBitArrayAlignment = 0x800;

    private readonly int _msixBar = -1;
    private readonly ulong _pendingBitArrayOffset;

    /// <summary>Builds the function for <paramref name="device"/>; call <see cref="Activate"/> once it is attached.</summary>
    public PciDeviceAdapter(IPciDevice device, IGuestMemory memory, IMsiController msiController)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(msiController);
        Device = device;
        Memory = memory;
        ConfigSpace = new PciConfigSpace(device.Identity);
        foreach (PciBar bar in device.Bars)
        {
            ConfigSpace.AddBar(new PciBarDefinition(bar.Index, bar.Size, bar.Kind, bar.Prefetchable, Emulated: bar.BackingFile is null));
        }

        if (device.MsixVectorCount > 0)
        {
            Msix = new MsixTable(device.MsixVectorCount, msiController);
            _msixBar = FindFreeBarSlot();
            _pendingBitArrayOffset = ((ulong)Msix.TableSize + PendingBitArrayAlignment - 1) & ~(PendingBitArrayAlignment - 1);
            ulong size = ulong.Max(System.Numerics.BitOperations.RoundUpToPowerOf2(_pendingBitArrayOffset + (ulong)Msix.PendingBitArraySize), 0x1000);
            ConfigSpace.AddBar(new PciBarDefinition(_msixBar, size, PciBarKind.Memory32));
            ConfigSpace.AddCapability(new MsixCapability(Msix, _msixBar, 0, (uint)_pendingBitArrayOffset));
        }
    }

    /// <summary>The plugin's device.</summary>
    public IPciDevice Device { get; }

    /// <inheritdoc />
    public PciConfigSpace ConfigSpace { get; }

    /// <summary>The MSI-X table, or null when the device has no vectors.</summary>
    public MsixTable? Msix { get; }

    /// <summary>The BAR slot the MSI-X table and PBA live in, or -1.</summary>
    public int MsixBarIndex => _msixBar;

    /// <inheritdoc />
    public IGuestMemory Memory { get; }

    /// <summary>Hands the device its context: from now on it may raise interrupts.</summary>
    public void Activate() => Device.Activate(this);

    /// <inheritdoc />
    public void SignalMsix(int vector) => Msix?.Signal(vector);

    /// <inheritdoc />
    public void ReadBar(int barIndex, ulong offset, Span<byte> data)
    {
        if (barIndex == _msixBar && Msix is not null)
        {
            if (offset < _pendingBitArrayOffset)
            {
                Msix.ReadTable(offset, data);
            }
            else
            {
                Msix.ReadPendingBitArray(offset - _pendingBitArrayOffset, data);
            }

            return;
        }

        Device.ReadBar(barIndex, offset, data);
    }

    /// <inheritdoc />
    public void WriteBar(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
        if (barIndex == _msixBar && Msix is not null)
        {
            if (offset < _pendingBitArrayOffset)
            {
                Msix.WriteTable(offset, data);
            }

            return;
        }

        Device.WriteBar(barIndex, offset, data);
    }

    /// <summary>Releases the MSI-X vectors (the device itself belongs to whoever created it).</summary>
    public void Dispose() => Msix?.Dispose();

    private int FindFreeBarSlot()
    {
        for (int slot = 0; slot < 6; slot++)
        {
            bool taken = ConfigSpace.Bars[slot] is not null || (slot > 0 && ConfigSpace.Bars[slot - 1] is { Is64Bit: true });
            if (!taken)
            {
                return slot;
            }
        }

        throw new InvalidOperationException($"PCI device '{Device.Id}' uses every BAR slot; there is none left for its MSI-X table.");
    }
}
