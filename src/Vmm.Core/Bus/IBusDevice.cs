namespace Vmm.Core.Bus;

/// <summary>
/// Something decoded on the port-I/O or MMIO bus: a UART, the PCI config ports, a BAR. Offsets are relative to
/// the registered range's start; the bus has checked that offset + length lies inside it. Called on vCPU threads
/// (or the in-process driver's thread): return quickly, never block on the guest.
/// </summary>
public interface IBusDevice
{
    /// <summary>A guest read of <c>data.Length</c> bytes (1, 2, 4 or 8) at <paramref name="offset"/>.</summary>
    void Read(ulong offset, Span<byte> data);

    /// <summary>A guest write of <c>data.Length</c> bytes (1, 2, 4 or 8) at <paramref name="offset"/>.</summary>
    void Write(ulong offset, ReadOnlySpan<byte> data);
}
