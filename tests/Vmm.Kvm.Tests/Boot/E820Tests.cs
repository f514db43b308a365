using Vmm.Kvm.Boot;
using Xunit;

namespace Vmm.Kvm.Tests.Boot;

public sealed class E820Tests
{
    [Fact]
    public void SmallMemoryIsBaseRamTheReservedHoleAndRamFromOneMegabyte()
    {
        Assert.Equal(
            [
                new E820Entry(0, 0x9_FC00, E820Type.Ram),
                new E820Entry(0x9_FC00, 0x10_0000 - 0x9_FC00, E820Type.Reserved),
                new E820Entry(0x10_0000, (256ul << 20) - 0x10_0000, E820Type.Ram),
            ],
            E820Entry.ForMemory(256ul << 20));
    }

    [Fact]
    public void MemoryBeyondTheThirtyTwoBitWindowContinuesAtFourGigabytes()
    {
        const ulong memory = 5ul << 30;

        IReadOnlyList<E820Entry> map = E820Entry.ForMemory(memory);

        Assert.Equal(new E820Entry(0x10_0000, BootLayout.MmioHoleStart - 0x10_0000, E820Type.Ram), map[2]);
        Assert.Equal(new E820Entry(BootLayout.RamAbove4GStart, memory - BootLayout.MmioHoleStart, E820Type.Ram), map[3]);
        Assert.Equal(memory, map.Where(e => e.Type == E820Type.Ram).Aggregate(0ul, (sum, e) => sum + e.Size) + 0x10_0000 - 0x9_FC00);
        Assert.Equal([(0ul, BootLayout.MmioHoleStart), (BootLayout.RamAbove4GStart, memory - BootLayout.MmioHoleStart)], BootLayout.RamRegions(memory));
    }

    [Fact]
    public void MemoryTooSmallToBootIsRejected() => Assert.Throws<BootImageException>(() => E820Entry.ForMemory(1ul << 20));
}
