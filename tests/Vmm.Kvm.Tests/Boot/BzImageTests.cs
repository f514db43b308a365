using System.Buffers.Binary;
using Vmm.Core.Memory;
using Vmm.Kvm.Boot;
using Xunit;

namespace Vmm.Kvm.Tests.Boot;

public sealed class BzImageTests
{
    [Fact]
    public void DebianVmlinuzParsesWithTheMeasuredHeader()
    {
        string path = GuestImageFiles.PathOrSkip("vmlinuz");
        BzImage image = BzImage.Parse(File.ReadAllBytes(path), path);

        Assert.True(image.ProtocolVersion >= 0x020F, $"protocol 0x{image.ProtocolVersion:x}");
        Assert.Equal(0x01, image.LoadFlags & 0x01);
        Assert.Equal(0x01, image.XLoadFlags & 0x01);
        Assert.Equal(0x7FFu, image.CommandLineSize);
        Assert.Equal(0x7FFF_FFFFu, image.InitrdAddressMax);
        Assert.InRange(image.InitSize, 0x100_0000u, 0x800_0000u);
        Assert.Equal((image.SetupSectors + 1) * 512, image.PayloadOffset);
    }

    [Fact]
    public void DebianVmlinuzLoadsWithZeroPageInitrdAndMpTable()
    {
        string kernelPath = GuestImageFiles.PathOrSkip("vmlinuz");
        string initrdPath = GuestImageFiles.PathOrSkip("initrd.img");
        byte[] kernel = File.ReadAllBytes(kernelPath);
        byte[] initrd = File.ReadAllBytes(initrdPath);
        const ulong memorySize = 256ul << 20;
        using GuestMemory memory = GuestMemory.Create(memorySize);

        BootEntry entry = KernelLoader.Load(memory, memorySize, 2, kernel, kernelPath, initrd, "console=ttyS0 reboot=k");

        BzImage image = BzImage.Parse(kernel, kernelPath);
        Assert.Equal(BootEntryMode.Linux64, entry.Mode);
        Assert.Equal(0x10_0200ul, entry.EntryPoint);
        Assert.Equal(BootLayout.ZeroPageAddress, entry.BootInfoAddress);
        Assert.True(memory.GetSpan(BootLayout.KernelLoadAddress, 4096).SequenceEqual(image.ProtectedModeKernel[..4096]));

        Span<byte> zeroPage = memory.GetSpan(BootLayout.ZeroPageAddress, ZeroPage.Size);
        Assert.Equal(0x5372_6448u, BinaryPrimitives.ReadUInt32LittleEndian(zeroPage[0x202..]));
        Assert.Equal(0xFF, zeroPage[0x210]);
        Assert.Equal((uint)BootLayout.CommandLineAddress, BinaryPrimitives.ReadUInt32LittleEndian(zeroPage[0x228..]));
        (ulong initrdAddress, ulong initrdSize) = entry.Initrd!.Value;
        Assert.Equal((uint)initrdAddress, BinaryPrimitives.ReadUInt32LittleEndian(zeroPage[0x218..]));
        Assert.Equal((uint)initrdSize, BinaryPrimitives.ReadUInt32LittleEndian(zeroPage[0x21C..]));
        Assert.Equal(0ul, initrdAddress % 4096);
        Assert.True(initrdAddress >= entry.KernelEnd && initrdAddress + initrdSize <= memorySize);
        Assert.True(memory.GetSpan(initrdAddress, initrd.Length).SequenceEqual(initrd));
        Assert.Equal("console=ttyS0 reboot=k\0", System.Text.Encoding.ASCII.GetString(memory.GetSpan(BootLayout.CommandLineAddress, 23)));

        // e820: base RAM, the reserved MP-table/legacy range, RAM from 1 MiB to the end.
        Assert.Equal(3, zeroPage[0x1E8]);
        Assert.Equal(E820Entry.ForMemory(memorySize), ReadE820(zeroPage));
        Assert.Equal("_MP_"u8.ToArray(), memory.GetSpan(BootLayout.MpTableAddress, 4).ToArray());
    }

    [Fact]
    public void TruncatedImageIsRejected()
    {
        BootImageException error = Assert.Throws<BootImageException>(() => BzImage.Parse(new byte[0x100], "short"));
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ImageCutBeforeItsKernelIsRejected()
    {
        byte[] image = SyntheticImages.BzImage()[..0x900];
        BootImageException error = Assert.Throws<BootImageException>(() => BzImage.Parse(image, "cut"));
        Assert.Contains("past the end", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadMagicIsRejected()
    {
        byte[] image = SyntheticImages.BzImage();
        image[0x202] = (byte)'X';
        BootImageException error = Assert.Throws<BootImageException>(() => BzImage.Parse(image, "bad"));
        Assert.Contains("HdrS", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProtocolOlderThan212IsRejected()
    {
        BootImageException error = Assert.Throws<BootImageException>(() => BzImage.Parse(SyntheticImages.BzImage(version: 0x0206), "old"));
        Assert.Contains("2.06 is too old", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KernelWithoutLoadedHighOrXlfKernel64IsRejected()
    {
        Assert.Contains("LOADED_HIGH", Assert.Throws<BootImageException>(() => BzImage.Parse(SyntheticImages.BzImage(loadFlags: 0), "low")).Message, StringComparison.Ordinal);
        Assert.Contains("XLF_KERNEL_64", Assert.Throws<BootImageException>(() => BzImage.Parse(SyntheticImages.BzImage(xloadFlags: 0), "32")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InitrdThatDoesNotFitIsRejected()
    {
        const ulong memorySize = 8ul << 20;
        using GuestMemory memory = GuestMemory.Create(memorySize);
        byte[] initrd = new byte[4 << 20]; // kernel + init_size reach 5 MiB; 4 MiB more does not fit in 8

        BootImageException error = Assert.Throws<BootImageException>(() => KernelLoader.Load(memory, memorySize, 1, SyntheticImages.BzImage(), "k", initrd, ""));

        Assert.Contains("initrd", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not fit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InitrdStaysBelowInitrdAddressMax()
    {
        const ulong memorySize = 64ul << 20;
        using GuestMemory memory = GuestMemory.Create(memorySize);

        BootEntry entry = KernelLoader.Load(memory, memorySize, 1, SyntheticImages.BzImage(initrdMax: 0xFF_FFFF), "k", new byte[0x1800], "");

        Assert.Equal(0xFF_E000ul, entry.Initrd!.Value.Address);
    }

    [Fact]
    public void KernelLargerThanMemoryAndOverlongCommandLineAreRejected()
    {
        const ulong memorySize = 4ul << 20;
        using GuestMemory memory = GuestMemory.Create(memorySize);
        Assert.Contains("init_size", Assert.Throws<BootImageException>(() => KernelLoader.Load(memory, memorySize, 1, SyntheticImages.BzImage(), "k", null, "")).Message, StringComparison.Ordinal);

        using GuestMemory larger = GuestMemory.Create(16ul << 20);
        Assert.Contains("at most 16", Assert.Throws<BootImageException>(() => KernelLoader.Load(larger, 16ul << 20, 1, SyntheticImages.BzImage(commandLineSize: 16), "k", null, new string('x', 17))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NeitherBzImageNorElfIsRejected()
    {
        using GuestMemory memory = GuestMemory.Create(16ul << 20);
        BootImageException error = Assert.Throws<BootImageException>(() => KernelLoader.Load(memory, 16ul << 20, 1, new byte[4096], "zeros", null, ""));
        Assert.Contains("neither a bzImage", error.Message, StringComparison.Ordinal);
    }

    private static List<E820Entry> ReadE820(ReadOnlySpan<byte> zeroPage)
    {
        List<E820Entry> entries = [];
        for (int i = 0; i < zeroPage[0x1E8]; i++)
        {
            ReadOnlySpan<byte> entry = zeroPage.Slice(0x2D0 + (i * 20), 20);
            entries.Add(new E820Entry(BinaryPrimitives.ReadUInt64LittleEndian(entry), BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]), (E820Type)BinaryPrimitives.ReadUInt32LittleEndian(entry[16..])));
        }

        return entries;
    }
}
