using Vmm.Contracts.Pci;
using Vmm.Core.Bus;

namespace Vmm.Core.Pci;

/// <summary>
/// PCI bus 0: a host bridge at 00:00.0 and up to 31 single-function devices. Places BARs from the
/// <see cref="PciWindows"/> at attach time, registers them on the port-I/O or MMIO bus while the command register
/// lets them decode, and follows the guest when it moves one. Configuration cycles arrive through
/// <see cref="ConfigIo"/> (ports 0xCF8..0xCFF) or <see cref="Ecam"/>.
/// </summary>
public sealed class PciRoot
{
    /// <summary>The number of device slots on the bus.</summary>
    public const int SlotCount = 32;

    private readonly object _configLock = new();
    private readonly AddressBus _portIo;
    private readonly AddressBus _mmio;
    private readonly PciBarAllocator _allocator;
    private readonly Slot?[] _slots = new Slot?[SlotCount];

    /// <summary>Creates the bus with its host bridge; BARs go onto <paramref name="portIo"/> and <paramref name="mmio"/>.</summary>
    public PciRoot(AddressBus portIo, AddressBus mmio, PciWindows? windows = null)
    {
        ArgumentNullException.ThrowIfNull(portIo);
        ArgumentNullException.ThrowIfNull(mmio);
        _portIo = portIo;
        _mmio = mmio;
        _allocator = new PciBarAllocator(windows ?? PciWindows.Default);
        ConfigIo = new PciConfigIo(this);
        Ecam = new PciEcam(this);
        AttachAt(0, new PciHostBridge());
    }

    /// <summary>Raised when a BAR starts, stops or moves decoding. Raised under the configuration lock.</summary>
    public event EventHandler<PciBarMovedEventArgs>? BarMoved;

    /// <summary>Configuration mechanism #1; register it on the port-I/O bus at <see cref="PciConfigIo.BasePort"/>.</summary>
    public PciConfigIo ConfigIo { get; }

    /// <summary>ECAM for bus 0; register it on the MMIO bus (<see cref="PciEcam.Size"/> bytes).</summary>
    public PciEcam Ecam { get; }

    /// <summary>Registers <see cref="ConfigIo"/> on the port bus and <see cref="Ecam"/> at <paramref name="ecamBase"/> on the MMIO bus.</summary>
    public void RegisterConfigMechanisms(ulong ecamBase)
    {
        _portIo.Register(PciConfigIo.BasePort, PciConfigIo.Size, ConfigIo);
        _mmio.Register(ecamBase, PciEcam.Size, Ecam);
    }

    /// <summary>
    /// Attaches <paramref name="function"/> to the first free slot (or <paramref name="device"/>), placing each BAR
    /// naturally aligned in its window. Returns the slot number.
    /// </summary>
    public int Attach(IPciFunction function, int? device = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        lock (_configLock)
        {
            int slot = device ?? Array.FindIndex(_slots, 1, s => s is null);
            if (slot < 1 || slot >= SlotCount || _slots[slot] is not null)
            {
                throw new InvalidOperationException(device is null ? "PCI bus 0 is full." : $"PCI slot {device} is not free.");
            }

            PciConfigSpace config = function.ConfigSpace;
            for (int i = 0; i < 6; i++)
            {
                if (config.Bars[i] is PciBarDefinition bar)
                {
                    config.SetBarAddress(i, _allocator.Allocate(bar.Kind, bar.Size));
                }
            }

            AttachAt(slot, function);
            return slot;
        }
    }

    /// <summary>The function in <paramref name="device"/>, or null.</summary>
    public IPciFunction? GetFunction(int device)
    {
        lock (_configLock)
        {
            return (uint)device < SlotCount ? _slots[device]?.Function : null;
        }
    }

    /// <summary>Where BAR <paramref name="barIndex"/> of <paramref name="device"/> decodes now, or null.</summary>
    public ulong? GetDecodedBarAddress(int device, int barIndex)
    {
        lock (_configLock)
        {
            return _slots[device]?.Decoded[barIndex];
        }
    }

    /// <summary>A configuration read; absent functions and other buses read all-ones.</summary>
    public void ReadConfig(int bus, int device, int function, int offset, Span<byte> data)
    {
        lock (_configLock)
        {
            if (TryGetSlotLocked(bus, device, function) is Slot slot)
            {
                slot.Function.ConfigSpace.Read(offset, data);
            }
            else
            {
                data.Fill(0xFF);
            }
        }
    }

    /// <summary>A configuration write; to an absent function it is dropped.</summary>
    public void WriteConfig(int bus, int device, int function, int offset, ReadOnlySpan<byte> data)
    {
        lock (_configLock)
        {
            TryGetSlotLocked(bus, device, function)?.Function.ConfigSpace.Write(offset, data);
        }
    }

    private Slot? TryGetSlotLocked(int bus, int device, int function)
        => bus == 0 && function == 0 && (uint)device < SlotCount ? _slots[device] : null;

    private void AttachAt(int device, IPciFunction function)
    {
        var slot = new Slot(device, function);
        _slots[device] = slot;
        function.ConfigSpace.MappingChanged += () => UpdateMappingLocked(slot);
        UpdateMappingLocked(slot);
    }

    private void UpdateMappingLocked(Slot slot)
    {
        PciConfigSpace config = slot.Function.ConfigSpace;
        for (int i = 0; i < 6; i++)
        {
            if (config.Bars[i] is not PciBarDefinition bar)
            {
                continue;
            }

            ulong address = config.GetBarAddress(i);
            ulong? wanted = config.IsBarDecodingEnabled(i) && config.IsBarProgrammed(i) && address != 0 ? address : null;
            ulong? current = slot.Decoded[i];
            if (wanted == current)
            {
                continue;
            }

            AddressBus bus = bar.Kind == PciBarKind.IO ? _portIo : _mmio;
            if (bar.Emulated && current is ulong old)
            {
                bus.Unregister(old);
            }

            slot.Decoded[i] = null;
            if (wanted is ulong target)
            {
                if (bar.Emulated)
                {
                    try
                    {
                        bus.Register(target, bar.Size, slot.BusDevices[i] ??= new PciBarBusDevice(slot.Function, i));
                        slot.Decoded[i] = target;
                    }
                    catch (InvalidOperationException)
                    {
                        // The guest put the BAR over something else; real hardware would decode garbage, we decode nothing.
                    }
                }
                else
                {
                    slot.Decoded[i] = target;
                }
            }

            if (slot.Decoded[i] != current)
            {
                BarMoved?.Invoke(this, new PciBarMovedEventArgs(slot.Device, slot.Function, bar, current, slot.Decoded[i]));
            }
        }
    }

    private sealed class Slot(int device, IPciFunction function)
    {
        public int Device { get; } = device;

        public IPciFunction Function { get; } = function;

        public ulong?[] Decoded { get; } = new ulong?[6];

        public IBusDevice?[] BusDevices { get; } = new IBusDevice?[6];
    }
}
