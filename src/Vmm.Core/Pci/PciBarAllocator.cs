using Vmm.Contracts.Pci;

namespace Vmm.Core.Pci;

/// <summary>Hands out naturally aligned BAR addresses from the <see cref="PciWindows"/>, bottom up.</summary>
public sealed class PciBarAllocator
{
    private readonly PciWindows _windows;
    private ulong _nextMmio32;
    private ulong _nextMmio64;
    private ulong _nextIo;

    /// <summary>Creates an allocator over <paramref name="windows"/>.</summary>
    public PciBarAllocator(PciWindows windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        _windows = windows;
        _nextMmio32 = windows.Mmio32Start;
        _nextMmio64 = windows.Mmio64Start;
        _nextIo = windows.IoStart;
    }

    /// <summary>Places a BAR of <paramref name="size"/> bytes of <paramref name="kind"/>.</summary>
    /// <exception cref="InvalidOperationException">The window is full.</exception>
    public ulong Allocate(PciBarKind kind, ulong size)
    {
        return kind switch
        {
            PciBarKind.Memory32 => Take(ref _nextMmio32, _windows.Mmio32End, size, "32-bit MMIO"),
            PciBarKind.Memory64 => Take(ref _nextMmio64, _windows.Mmio64End, size, "64-bit MMIO"),
            _ => Take(ref _nextIo, _windows.IoEnd, size, "I/O port"),
        };
    }

    private static ulong Take(ref ulong next, ulong end, ulong size, string window)
    {
        ulong address = (next + size - 1) & ~(size - 1);
        if (address < next || address + size > end)
        {
            throw new InvalidOperationException($"The {window} window has no room for a BAR of 0x{size:x} bytes.");
        }

        next = address + size;
        return address;
    }
}
