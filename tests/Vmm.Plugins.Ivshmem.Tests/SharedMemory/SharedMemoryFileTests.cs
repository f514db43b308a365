using System.IO.MemoryMappedFiles;
using Vmm.Plugins.Ivshmem.SharedMemory;
using Xunit;

namespace Vmm.Plugins.Ivshmem.Tests.SharedMemory;

/// <summary>A host file or memfd as IVSHMEM memory: created at its size, never truncated, mapped shared.</summary>
public sealed unsafe class SharedMemoryFileTests : IDisposable
{
    private const long Size = 1L << 20;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void AMissingFileIsCreatedAtTheSize()
    {
        string path = _folder.File("looking-glass");
        using SharedMemoryFile memory = SharedMemoryFile.OpenOrCreate(path, Size);

        Assert.Equal((Size, path), (new FileInfo(path).Length, memory.Path));
        Assert.Equal(Size, memory.Size);
    }

    [Fact]
    public void AnEmptyFileIsSized()
    {
        string path = _folder.File("tmpfiles-made-it");
        File.WriteAllBytes(path, []);

        using SharedMemoryFile memory = SharedMemoryFile.OpenOrCreate(path, 2 * Size);

        Assert.Equal(2 * Size, new FileInfo(path).Length);
    }

    [Fact]
    public void AFileOfAnotherSizeIsRefusedAndLeftAsItWas()
    {
        string path = _folder.File("in-use");
        byte[] contents = new byte[3 * Size];
        new Random(12).NextBytes(contents);
        File.WriteAllBytes(path, contents);

        SharedMemoryException error = Assert.Throws<SharedMemoryException>(() => SharedMemoryFile.OpenOrCreate(path, Size));

        Assert.Contains($"is {3 * Size} bytes but {Size} bytes were asked for", error.Message, StringComparison.Ordinal);
        Assert.Equal(contents, File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(Size / 2)]
    [InlineData(Size + 4096)]
    public void SizesThatAreNotPowersOfTwoOfAtLeast1MiBAreRefused(long size)
    {
        Assert.NotNull(SharedMemoryFile.CheckSize(size));
        Assert.Throws<SharedMemoryException>(() => SharedMemoryFile.CreateAnonymous("bad", size));
        Assert.False(File.Exists(_folder.File("never")));
        Assert.Throws<SharedMemoryException>(() => SharedMemoryFile.OpenOrCreate(_folder.File("never"), size));
        Assert.False(File.Exists(_folder.File("never")));
    }

    [Fact]
    public void AMemfdIsAnonymousSharedMemoryOfTheSize()
    {
        using SharedMemoryFile memory = SharedMemoryFile.CreateAnonymous("ivshmem-test", Size);

        Assert.Null(memory.Path);
        Assert.Equal(Size, RandomAccess.GetLength(memory.Handle));
        string link = new FileInfo($"/proc/self/fd/{memory.Handle.DangerousGetHandle()}").LinkTarget!;
        Assert.StartsWith("/memfd:ivshmem-test", link, StringComparison.Ordinal);

        // Shared: what the mapping holds is the memfd's contents.
        memory.Pointer[Size - 1] = 0x5A;
        byte[] last = new byte[1];
        RandomAccess.Read(memory.Handle, last, Size - 1);
        Assert.Equal(0x5A, last[0]);
    }

    [Fact]
    public void WritesThroughTheMappingAreSeenThroughAnotherMappingOfTheFileAndBack()
    {
        string path = _folder.File("two-views");
        using SharedMemoryFile memory = SharedMemoryFile.OpenOrCreate(path, Size);
        using MemoryMappedFile other = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        using MemoryMappedViewAccessor view = other.CreateViewAccessor(0, Size);

        *(ulong*)(memory.Pointer + 4096) = 0x1122_3344_5566_7788;
        Assert.Equal(0x1122_3344_5566_7788UL, view.ReadUInt64(4096));

        view.Write(Size - 8, 0xDEAD_BEEF_0BAD_F00DUL);
        view.Flush();
        Assert.Equal(0xDEAD_BEEF_0BAD_F00DUL, *(ulong*)(memory.Pointer + Size - 8));
    }
}
