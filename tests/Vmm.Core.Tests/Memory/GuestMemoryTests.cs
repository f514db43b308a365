using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Memory;
using Vmm.Core.Memory;
using Vmm.Interop;
using Vmm.Testing.Diagnostics;
using Xunit;

namespace Vmm.Core.Tests.Memory;

public sealed class GuestMemoryTests
{
    private const ulong Page = 0x1000;

    [Fact]
    public void SingleRegionReadsBackWhatWasWritten()
    {
        using GuestMemory memory = GuestMemory.Create(0x10000);
        Assert.Equal([new GuestMemoryRegionInfo(0, 0x10000)], memory.Regions);
        memory.Write(0x1234, [1, 2, 3, 4]);
        byte[] back = new byte[4];
        memory.Read(0x1234, back);
        Assert.Equal([1, 2, 3, 4], back);
        Assert.True(memory.TryGetSpan(0x1234, 4, out Span<byte> span));
        Assert.Equal([1, 2, 3, 4], span.ToArray());
        Assert.Equal(0x04030201u, memory.ReadUInt32(0x1234));
        Assert.NotNull(memory.MappedRegions[0].File);
        Assert.NotEqual(0, memory.MappedRegions[0].HostAddress);
    }

    [Theory]
    [InlineData(0x10000UL, 1UL)]
    [InlineData(0xFFFFUL, 2UL)]
    [InlineData(0x20000UL, 0UL)]
    [InlineData(ulong.MaxValue, 1UL)]
    public void RangesOutsideMemoryAreRejected(ulong address, ulong length)
    {
        using GuestMemory memory = GuestMemory.Create(0x10000);
        AssertRejected(memory, address, length);
    }

    [Theory]
    [InlineData(0x8000UL, ulong.MaxValue)]
    [InlineData(0x8000UL, ulong.MaxValue - 0x7FFF)]
    [InlineData(1UL, ulong.MaxValue)]
    public void WrappingRangesAreRejected(ulong address, ulong length)
    {
        using GuestMemory memory = GuestMemory.Create(0x10000);
        Assert.False(memory.IsValidRange(address, length));
    }

    [Fact]
    public void RangeStraddlingAHoleIsRejectedAndNothingIsWritten()
    {
        using GuestMemory memory = GuestMemory.Create([new GuestMemoryRegionSpec(0x20000, 0x10000), new GuestMemoryRegionSpec(0, 0x10000)]);
        Assert.Equal([new GuestMemoryRegionInfo(0, 0x10000), new GuestMemoryRegionInfo(0x20000, 0x10000)], memory.Regions);
        AssertRejected(memory, 0xFFF0, 0x20);
        AssertRejected(memory, 0x10000, 1);
        AssertRejected(memory, 0x1FFFF, 2);

        Assert.Throws<GuestMemoryException>(() => memory.Write(0xFFF0, new byte[0x20]));
        memory.Write(0xFFF0, Enumerable.Repeat((byte)7, 0x10).ToArray());
        Assert.Throws<GuestMemoryException>(() => memory.Write(0xFFF0, new byte[0x20]));
        Assert.Equal(7, memory.ReadByte(0xFFF0));
    }

    [Fact]
    public void ReadAndWriteCrossAdjacentRegionsButSpansDoNot()
    {
        using GuestMemory memory = GuestMemory.Create([new GuestMemoryRegionSpec(0, 0x10000), new GuestMemoryRegionSpec(0x10000, 0x10000), new GuestMemoryRegionSpec(0x20000, 0x10000)]);
        byte[] data = Enumerable.Range(0, 0x10010).Select(i => (byte)i).ToArray();
        Assert.True(memory.IsValidRange(0xFFF8, (ulong)data.Length));
        memory.Write(0xFFF8, data);
        byte[] back = new byte[data.Length];
        memory.Read(0xFFF8, back);
        Assert.Equal(data, back);
        Assert.Equal(data[8], memory.ReadByte(0x10000));

        Assert.False(memory.TryGetSpan(0xFFF8, 0x10, out _));
        Assert.Throws<GuestMemoryException>(() => memory.GetSpan(0xFFF8, 0x10));
        Assert.True(memory.TryGetSpan(0x10000, 0x10000, out Span<byte> whole));
        Assert.Equal(0x10000, whole.Length);
        Assert.True(memory.IsValidRange(0, 0x30000));
        Assert.False(memory.IsValidRange(0, 0x30001));
    }

    [Fact]
    public void LookupFindsEveryRegionAmongMany()
    {
        var specs = Enumerable.Range(0, 9).Select(i => new GuestMemoryRegionSpec((ulong)i * 0x100000, Page * (ulong)(i + 1))).ToArray();
        using GuestMemory memory = GuestMemory.Create(specs.Reverse());
        for (int i = 0; i < specs.Length; i++)
        {
            ulong start = specs[i].GuestAddress;
            ulong end = start + specs[i].Size;
            memory.WriteUInt32(start, (uint)i);
            memory.WriteUInt32(end - 4, (uint)i);
            Assert.Equal((uint)i, memory.ReadUInt32(start));
            Assert.True(memory.IsValidRange(start, specs[i].Size));
            Assert.False(memory.IsValidRange(end, 1));
            Assert.False(memory.IsValidRange(start == 0 ? ulong.MaxValue : start - 1, 1));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        bool all = true;
        for (int i = 0; i < 1000; i++)
        {
            all &= memory.IsValidRange(0x400000, Page) && memory.TryGetSpan(0x800000, 8, out _);
        }

        Assert.True(all);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void BadLayoutsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => GuestMemory.Create(0));
        Assert.Throws<ArgumentException>(() => GuestMemory.Create(0x1800));
        Assert.Throws<ArgumentException>(() => GuestMemory.Create([new GuestMemoryRegionSpec(0x800, 0x1000)]));
        Assert.Throws<ArgumentException>(() => GuestMemory.Create([new GuestMemoryRegionSpec(0, 0x2000), new GuestMemoryRegionSpec(0x1000, 0x1000)]));
        Assert.Throws<ArgumentException>(() => GuestMemory.Create([new GuestMemoryRegionSpec(ulong.MaxValue - 0xFFF, 0x1000)]));
        Assert.Throws<ArgumentException>(() => GuestMemory.Create(Array.Empty<GuestMemoryRegionSpec>()));
    }

    [Fact]
    public void DisposeUnmapsAndClosesFiles()
    {
        GuestMemory memory = GuestMemory.Create([new GuestMemoryRegionSpec(0, 0x1000), new GuestMemoryRegionSpec(0x2000, 0x1000)]);
        SafeFileHandle[] files = [.. memory.MappedRegions.Select(r => r.File!)];
        nint host = memory.MappedRegions[0].HostAddress;
        string? line = ProcessMaps.Find(host)?.Line;
        Assert.NotNull(line);
        Assert.Contains("memfd:vmm-guest-ram", line, StringComparison.Ordinal);

        memory.Dispose();
        Assert.All(files, f => Assert.True(f.IsClosed));

        // Other tests may map something new at the same address; the memfd's own line (inode included) must be gone.
        Assert.DoesNotContain(line, File.ReadLines("/proc/self/maps"));
        Assert.Throws<ObjectDisposedException>(() => memory.IsValidRange(0, 1));
        memory.Dispose();
    }

    [Fact]
    public void FileRegionsMapCallerFilesAtTheirOffsets()
    {
        SafeFileHandle file = HostMemory.CreateMemoryFile("test", 0x4000);
        byte[] pattern = Enumerable.Range(0, 0x4000).Select(i => (byte)(i * 13)).ToArray();
        RandomAccess.Write(file, pattern, 0);
        SafeFileHandle second = HostMemory.CreateMemoryFile("test", 0x1000);

        // An offset inside a page, as a vhost-user frontend may send it.
        using GuestMemory memory = GuestMemory.FromFileRegions(
        [
            new GuestMemoryFileRegion(file, 0x1800, 0x100000, 0x2000),
            new GuestMemoryFileRegion(second, 0, 0x102000, 0x1000),
        ]);
        byte[] back = new byte[0x2000];
        memory.Read(0x100000, back);
        Assert.Equal(pattern.AsSpan(0x1800, 0x2000).ToArray(), back);
        Assert.True(memory.IsValidRange(0x100000, 0x3000));
        Assert.False(memory.IsValidRange(0x100000, 0x3001));
        Assert.Equal(0x1800, memory.MappedRegions[0].FileOffset);

        // Writes land in the file.
        memory.Write(0x100010, [0xDE, 0xAD]);
        byte[] fromFile = new byte[2];
        RandomAccess.Read(file, fromFile, 0x1810);
        Assert.Equal([0xDE, 0xAD], fromFile);
    }

    [Fact]
    public void FileRegionsTakeOwnershipEvenWhenRejected()
    {
        SafeFileHandle file = HostMemory.CreateMemoryFile("test", 0x2000);
        SafeFileHandle overlapping = HostMemory.CreateMemoryFile("test", 0x2000);
        Assert.Throws<ArgumentException>(() => GuestMemory.FromFileRegions(
        [
            new GuestMemoryFileRegion(file, 0, 0, 0x2000),
            new GuestMemoryFileRegion(overlapping, 0, 0x1000, 0x1000),
        ]));
        Assert.True(file.IsClosed);
        Assert.True(overlapping.IsClosed);
    }

    [Fact]
    public void NegativeLengthIsACallerBug()
    {
        using GuestMemory memory = GuestMemory.Create(0x1000);
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.TryGetSpan(0, -1, out _));
    }

    private static void AssertRejected(GuestMemory memory, ulong address, ulong length)
    {
        Assert.False(memory.IsValidRange(address, length));
        int spanLength = (int)Math.Min(length, int.MaxValue);
        Assert.False(memory.TryGetSpan(address, spanLength, out Span<byte> span));
        Assert.True(span.IsEmpty);
        GuestMemoryException error = Assert.Throws<GuestMemoryException>(() => memory.GetSpan(address, spanLength));
        Assert.Equal(address, error.Address);
        Assert.Throws<GuestMemoryException>(() => memory.Read(address, new byte[spanLength]));
        Assert.Throws<GuestMemoryException>(() => memory.Write(address, new byte[spanLength]));
    }
}
