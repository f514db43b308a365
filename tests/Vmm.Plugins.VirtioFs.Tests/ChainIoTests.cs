using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Vmm.Plugins.VirtioFs.PassthroughFs;
using Xunit;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// READ and WRITE payloads go straight between the file and guest memory; a buffer that straddles two memory regions
/// (no single host span) takes the bounce-buffer path, which must move the same bytes.
/// </summary>
public sealed class ChainIoTests : IDisposable
{
    private const ulong RegionSize = 0x10000;
    private readonly GuestMemory _memory = GuestMemory.Create([new GuestMemoryRegionSpec(0, RegionSize), new GuestMemoryRegionSpec(RegionSize, RegionSize)]);
    private readonly string _path = Path.GetTempFileName();

    [Theory]
    [InlineData(0x1000UL)]         // inside one region: one preadv into guest memory
    [InlineData(RegionSize - 0x1000)] // straddles the two regions: the bounce path
    public void A_read_fills_the_guest_buffer_with_the_files_bytes(ulong address)
    {
        byte[] content = Pattern(0x2000, seed: 7);
        File.WriteAllBytes(_path, content);
        var chain = new DescriptorChain(_memory);
        chain.Reset(0);
        chain.AddWritable(new GuestBuffer(0x100, 16));
        chain.AddWritable(new GuestBuffer(address, 0x2000));
        using SafeFileHandle file = File.OpenHandle(_path);

        int read = new ChainIo().ReadFile(file, 0x10, 0x1800, chain, chainOffset: 16);

        Assert.Equal(0x1800, read);
        byte[] guest = new byte[0x1800];
        _memory.Read(address, guest);
        Assert.Equal(content.AsSpan(0x10, 0x1800).ToArray(), guest);
    }

    [Theory]
    [InlineData(0x1000UL)]
    [InlineData(RegionSize - 0x1000)]
    public void A_write_puts_the_guest_buffers_bytes_in_the_file(ulong address)
    {
        File.WriteAllBytes(_path, []);
        byte[] content = Pattern(0x2000, seed: 11);
        _memory.Write(address, content);
        var chain = new DescriptorChain(_memory);
        chain.Reset(0);
        chain.AddReadable(new GuestBuffer(0x100, 16));
        chain.AddReadable(new GuestBuffer(address, 0x2000));
        using (SafeFileHandle file = File.OpenHandle(_path, FileMode.Open, FileAccess.ReadWrite))
        {
            int written = new ChainIo().WriteFile(file, 0, 0x2000, chain, chainOffset: 16);
            Assert.Equal(0x2000, written);
        }

        Assert.Equal(content, File.ReadAllBytes(_path));
    }

    public void Dispose()
    {
        _memory.Dispose();
        File.Delete(_path);
    }

    private static byte[] Pattern(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
