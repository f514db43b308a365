using Vmm.Core.Bus;

namespace Vmm.Core.Pci;

/// <summary>Routes bus accesses in a BAR's range to its function.</summary>
internal sealed class PciBarBusDevice(IPciFunction function, int barIndex) : IBusDevice
{
    public void Read(ulong offset, Span<byte> data) => function.ReadBar(barIndex, offset, data);

    public void Write(ulong offset, ReadOnlySpan<byte> data) => function.WriteBar(barIndex, offset, data);
}
