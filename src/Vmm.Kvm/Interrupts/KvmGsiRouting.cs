using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using static Interop.Kvm;

namespace Vmm.Kvm.Interrupts;

/// <summary>
/// The VM's GSI routing table. KVM_SET_GSI_ROUTING replaces the whole table, so every commit re-adds the default
/// routes (PIC pins for GSIs 0-15, IOAPIC pins 0-23) next to the MSI routes handed out for irqfds.
/// </summary>
internal sealed class KvmGsiRouting
{
    /// <summary>GSIs below this are the IOAPIC's pins; MSI routes use the ones above.</summary>
    public const uint IoapicPinCount = 24;

    private const uint PicPinCount = 16;

    private readonly KvmVm _vm;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly SortedDictionary<uint, (ulong Address, uint Data)> _msiRoutes = [];
    private readonly Stack<uint> _freeGsis = new();
    private uint _nextGsi = IoapicPinCount;

    public KvmGsiRouting(KvmVm vm)
    {
        _vm = vm;
        _logger = vm.LoggerFactory.CreateLogger<KvmGsiRouting>();
    }

    /// <summary>How many MSI routes are installed.</summary>
    public int MsiRouteCount
    {
        get
        {
            lock (_lock)
            {
                return _msiRoutes.Count;
            }
        }
    }

    /// <summary>Takes a GSI for an MSI route (never an IOAPIC pin).</summary>
    public uint AllocateGsi()
    {
        lock (_lock)
        {
            return _freeGsis.Count > 0 ? _freeGsis.Pop() : _nextGsi++;
        }
    }

    /// <summary>Returns a GSI, removing its route if it still has one.</summary>
    public void FreeGsi(uint gsi)
    {
        lock (_lock)
        {
            if (_msiRoutes.Remove(gsi))
            {
                CommitLocked();
            }

            _freeGsis.Push(gsi);
        }
    }

    /// <summary>Routes <paramref name="gsi"/> to the MSI message (<paramref name="address"/>, <paramref name="data"/>).</summary>
    public void SetMsiRoute(uint gsi, ulong address, uint data)
    {
        lock (_lock)
        {
            if (_msiRoutes.TryGetValue(gsi, out (ulong Address, uint Data) current) && current == (address, data))
            {
                return;
            }

            _msiRoutes[gsi] = (address, data);
            CommitLocked();
        }
    }

    /// <summary>Re-installs the default routes alone (what KVM_CREATE_IRQCHIP set up).</summary>
    public void Commit()
    {
        lock (_lock)
        {
            CommitLocked();
        }
    }

    private unsafe void CommitLocked()
    {
        int count = (int)(PicPinCount + IoapicPinCount) + _msiRoutes.Count;
        nuint bytes = (nuint)(sizeof(kvm_irq_routing) + (count * sizeof(kvm_irq_routing_entry)));
        void* buffer = NativeMemory.AllocZeroed(bytes);
        try
        {
            ((kvm_irq_routing*)buffer)->nr = (uint)count;
            Span<kvm_irq_routing_entry> entries = new((byte*)buffer + sizeof(kvm_irq_routing), count);
            int index = 0;
            for (uint pin = 0; pin < PicPinCount; pin++)
            {
                ref kvm_irq_routing_entry entry = ref entries[index++];
                entry.gsi = pin;
                entry.type = KVM_IRQ_ROUTING_IRQCHIP;
                entry.u.irqchip.irqchip = pin < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
                entry.u.irqchip.pin = pin % 8;
            }

            for (uint pin = 0; pin < IoapicPinCount; pin++)
            {
                ref kvm_irq_routing_entry entry = ref entries[index++];
                entry.gsi = pin;
                entry.type = KVM_IRQ_ROUTING_IRQCHIP;
                entry.u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
                entry.u.irqchip.pin = pin;
            }

            foreach ((uint gsi, (ulong address, uint data)) in _msiRoutes)
            {
                ref kvm_irq_routing_entry entry = ref entries[index++];
                entry.gsi = gsi;
                entry.type = KVM_IRQ_ROUTING_MSI;
                entry.u.msi.address_lo = (uint)address;
                entry.u.msi.address_hi = (uint)(address >> 32);
                entry.u.msi.data = data;
            }

            global::Interop.CheckIo(Ioctl(_vm.Handle, KVM_SET_GSI_ROUTING, buffer), "ioctl(KVM_SET_GSI_ROUTING)");
            KvmLog.RoutingSet(_logger, count, _msiRoutes.Count);
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }
}
