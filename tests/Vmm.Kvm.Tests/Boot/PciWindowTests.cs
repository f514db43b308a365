using Vmm.Contracts.Pci;
using Vmm.Core.Pci;
using Vmm.Kvm.Boot;
using Xunit;

namespace Vmm.Kvm.Tests.Boot;

/// <summary>Where the kvm platform puts BARs: large 64-bit prefetchable ones (IVSHMEM) naturally aligned, above RAM.</summary>
public sealed class PciWindowTests
{
    [Theory]
    [InlineData(32UL << 20)]
    [InlineData(256UL << 20)]
    [InlineData(1UL << 30)]
    [InlineData(16UL << 30)]
    public void A64BitBarIsNaturallyAlignedInsideTheWindowAfterSmallerOnes(ulong size)
    {
        PciWindows windows = BootLayout.PciWindows(256UL << 20);
        var allocator = new PciBarAllocator(windows);

        ulong small = allocator.Allocate(PciBarKind.Memory64, 0x4000); // a virtio BAR first
        ulong address = allocator.Allocate(PciBarKind.Memory64, size);

        Assert.Equal(0x10_0000_0000UL, windows.Mmio64Start);
        Assert.Equal(0UL, address % size);
        Assert.InRange(address, small + 0x4000, windows.Mmio64End - size);
    }

    [Theory]
    [InlineData(256UL << 20, 0x10_0000_0000UL)]
    [InlineData(60UL << 30, 0x10_0000_0000UL)]
    [InlineData(64UL << 30, 0x20_0000_0000UL)] // RAM above 4 GiB now ends past 64 GiB: the window moves above it
    public void TheWindowStartsAbove64GiBAndAboveRam(ulong memory, ulong start)
    {
        PciWindows windows = BootLayout.PciWindows(memory);
        (ulong address, ulong size) = BootLayout.RamRegions(memory)[^1];

        Assert.Equal(start, windows.Mmio64Start);
        Assert.True(windows.Mmio64Start >= address + size);
        Assert.Equal(64UL << 30, windows.Mmio64End - windows.Mmio64Start);
        Assert.Equal((0xC000_0000UL, 0xE000_0000UL), (windows.Mmio32Start, windows.Mmio32End)); // ECAM follows at 0xE000_0000
    }
}
