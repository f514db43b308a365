using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Tests;

/// <summary>The one bounds-checked view of shared memory: nothing outside it is reachable, atomics need alignment.</summary>
public sealed class SharedRegionTests
{
    [Fact]
    public void ReadsAndWritesAreLittleEndianAndUnalignedSafe()
    {
        using SharedRegion region = SharedRegion.AllocateNative(64);
        region.WriteU32(1, 0x11223344);
        region.WriteU64(9, 0x0102030405060708);
        Assert.Equal(0x44, region.ReadU8(1));
        Assert.Equal(0x11223344u, region.ReadU32(1));
        Assert.Equal(0x0102030405060708ul, region.ReadU64(9));
        Assert.Equal(0x08, region.GetReadOnlySpan(9, 8)[0]);
    }

    [Theory]
    [InlineData(-1L, 1)]
    [InlineData(61L, 4)]
    [InlineData(64L, 1)]
    [InlineData(long.MaxValue, 4)]
    [InlineData(long.MaxValue - 2, 8)]
    public void AccessOutsideTheRegionThrows(long offset, int length)
    {
        using SharedRegion region = SharedRegion.AllocateNative(64);
        Assert.False(region.Contains(offset, length));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.GetSpan(offset, length).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => region.ReadU32(offset));
    }

    [Fact]
    public void ContainsIsOverflowSafeAndAcceptsTheExactEnd()
    {
        using SharedRegion region = SharedRegion.AllocateNative(64);
        Assert.True(region.Contains(0, 64));
        Assert.True(region.Contains(64, 0));
        Assert.False(region.Contains(1, long.MaxValue));
        Assert.False(region.Contains(0, -1));
    }

    [Fact]
    public void AtomicsWorkOnAlignedWordsAndRefuseMisalignedOnes()
    {
        using SharedRegion region = SharedRegion.AllocateNative(64);
        Assert.Equal(0u, region.CompareExchangeU32(8, 1, 0));
        Assert.Equal(1u, region.CompareExchangeU32(8, 2, 0));
        Assert.Equal(1u, region.FetchAddU32(8, 5));
        Assert.Equal(6u, region.FetchAndU32(8, 4));
        Assert.Equal(4u, region.FetchOrU32(8, 1));
        Assert.Equal(5u, region.ExchangeU32(8, 9));
        Assert.Equal(9u, region.LoadAcquireU32(8));
        region.StoreReleaseU64(16, ulong.MaxValue);
        Assert.Equal(ulong.MaxValue, region.ExchangeU64(16, 3));
        Assert.Equal(3ul, region.LoadAcquireU64(16));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.LoadAcquireU32(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.LoadAcquireU64(12));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.CompareExchangeU32(62, 1, 0));
    }

    [Fact]
    public void ViewsAMappedSharedMemoryFile()
    {
        using SharedMemoryFile file = SharedMemoryFile.CreateAnonymous("lgmp-region-test", SharedMemoryFile.MinimumSize);
        using SharedRegion region = SharedRegion.Over(file);
        Assert.Equal(file.Size, region.Length);
        region.WriteU32(file.Size - 4, 42);
        Assert.Equal(42u, region.ReadU32(file.Size - 4));
        Assert.False(region.Contains(file.Size - 3, 4));
    }
}
