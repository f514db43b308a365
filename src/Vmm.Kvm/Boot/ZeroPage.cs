using Vmm.Contracts.Memory;

namespace Vmm.Kvm.Boot;

/// <summary>Writes the Linux zero page (<c>struct boot_params</c>) for the 64-bit entry.</summary>
public static class ZeroPage
{
    /// <summary>The zero page's size.</summary>
    public const int Size = 4096;

    /// <summary>e820 slots in the zero page.</summary>
    public const int MaxE820Entries = 128;

    internal const int ExtRamdiskImageOffset = 0x0C0;
    internal const int ExtRamdiskSizeOffset = 0x0C4;
    internal const int ExtCommandLinePointerOffset = 0x0C8;
    internal const int E820EntriesOffset = 0x1E8;
    internal const int VideoModeOffset = 0x1FA;
    internal const int BootFlagOffset = 0x1FE;
    internal const int HeaderMagicOffset = 0x202;
    internal const int TypeOfLoaderOffset = 0x210;
    internal const int RamdiskImageOffset = 0x218;
    internal const int RamdiskSizeOffset = 0x21C;
    internal const int CommandLinePointerOffset = 0x228;
    internal const int KernelAlignmentOffset = 0x230;
    internal const int E820TableOffset = 0x2D0;

    /// <summary>
    /// Writes the zero page at <see cref="BootLayout.ZeroPageAddress"/>: <paramref name="setupHeader"/> (a bzImage's,
    /// or a minimal one built here for an ELF kernel), the command line pointer, the initrd and the e820 map.
    /// </summary>
    public static void Write(IGuestMemory memory, ReadOnlySpan<byte> setupHeader, ulong commandLineAddress, (ulong Address, ulong Size)? initrd, E820Entry[] e820)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(e820);
        if (e820.Length > MaxE820Entries)
        {
            throw new BootImageException($"The memory map has {e820.Length} ranges; the zero page holds {MaxE820Entries}.");
        }

        byte[] page = new byte[Size];
        Span<byte> span = page;
        if (setupHeader.IsEmpty)
        {
            // An ELF vmlinux has no setup header: the fields the kernel checks are built from scratch (as Firecracker does).
            Le.U16(span, BootFlagOffset, 0xAA55);
            Le.U32(span, HeaderMagicOffset, 0x5372_6448);
            Le.U32(span, KernelAlignmentOffset, 0x100_0000);
        }
        else
        {
            setupHeader.CopyTo(span[BzImage.SetupHeaderOffset..]);
        }

        Le.U16(span, VideoModeOffset, 0xFFFF);
        span[TypeOfLoaderOffset] = 0xFF;
        Le.U32(span, CommandLinePointerOffset, (uint)commandLineAddress);
        Le.U32(span, ExtCommandLinePointerOffset, (uint)(commandLineAddress >> 32));
        if (initrd is (ulong address, ulong size))
        {
            Le.U32(span, RamdiskImageOffset, (uint)address);
            Le.U32(span, RamdiskSizeOffset, (uint)size);
            Le.U32(span, ExtRamdiskImageOffset, (uint)(address >> 32));
            Le.U32(span, ExtRamdiskSizeOffset, (uint)(size >> 32));
        }

        span[E820EntriesOffset] = (byte)e820.Length;
        for (int i = 0; i < e820.Length; i++)
        {
            int offset = E820TableOffset + (i * 20);
            Le.U64(span, offset, e820[i].Address);
            Le.U64(span, offset + 8, e820[i].Size);
            Le.U32(span, offset + 16, (uint)e820[i].Type);
        }

        memory.Write(BootLayout.ZeroPageAddress, page);
    }
}
