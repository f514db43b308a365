using System.Buffers.Binary;

namespace Vmm.Kvm.Boot;

/// <summary>
/// A Linux bzImage's setup header (x86 boot protocol, Documentation/arch/x86/boot.rst), checked for what the 64-bit
/// entry needs: the 0xAA55 boot flag, the "HdrS" magic, protocol 2.12 or newer, LOADED_HIGH and XLF_KERNEL_64.
/// </summary>
public sealed class BzImage
{
    /// <summary>The oldest protocol with a 64-bit entry point (2.12).</summary>
    public const ushort MinimumProtocol = 0x020C;

    /// <summary>Where the setup header starts in the file and in the zero page.</summary>
    public const int SetupHeaderOffset = 0x1F1;

    /// <summary>The 64-bit entry's offset from the protected-mode kernel's load address.</summary>
    public const ulong Entry64Offset = 0x200;

    private const int BootFlagOffset = 0x1FE;
    private const int JumpOffset = 0x200;
    private const int MagicOffset = 0x202;
    private const int VersionOffset = 0x206;
    private const int LoadFlagsOffset = 0x211;
    private const int InitrdAddressMaxOffset = 0x22C;
    private const int XLoadFlagsOffset = 0x236;
    private const int CommandLineSizeOffset = 0x238;
    private const int InitSizeOffset = 0x260;
    private const int MinimumHeaderEnd = 0x264;
    private const uint HdrSMagic = 0x5372_6448;
    private const byte LoadedHigh = 0x01;
    private const ushort KernelIs64Bit = 0x01;

    private readonly byte[] _image;

    private BzImage(byte[] image, int headerEnd)
    {
        _image = image;
        HeaderEnd = headerEnd;
        byte sectors = image[SetupHeaderOffset];
        SetupSectors = sectors == 0 ? 4 : sectors;
        ProtocolVersion = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(VersionOffset));
        LoadFlags = image[LoadFlagsOffset];
        XLoadFlags = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(XLoadFlagsOffset));
        InitrdAddressMax = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(InitrdAddressMaxOffset));
        CommandLineSize = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(CommandLineSizeOffset));
        InitSize = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(InitSizeOffset));
    }

    /// <summary>Setup sectors before the protected-mode kernel (0 in the file means 4).</summary>
    public int SetupSectors { get; }

    /// <summary>The boot protocol version, e.g. 0x020F.</summary>
    public ushort ProtocolVersion { get; }

    /// <summary>loadflags.</summary>
    public byte LoadFlags { get; }

    /// <summary>xloadflags.</summary>
    public ushort XLoadFlags { get; }

    /// <summary>The highest address the initrd may occupy.</summary>
    public uint InitrdAddressMax { get; }

    /// <summary>The longest command line the kernel accepts, without the NUL.</summary>
    public uint CommandLineSize { get; }

    /// <summary>The memory the kernel needs from its load address while it decompresses and starts.</summary>
    public uint InitSize { get; }

    /// <summary>Where the setup header ends (exclusive), from the jump at 0x200.</summary>
    public int HeaderEnd { get; }

    /// <summary>The protected-mode kernel's offset in the file.</summary>
    public int PayloadOffset => (SetupSectors + 1) * 512;

    /// <summary>The setup header bytes to copy into the zero page at <see cref="SetupHeaderOffset"/>.</summary>
    public ReadOnlySpan<byte> SetupHeader => _image.AsSpan(SetupHeaderOffset, HeaderEnd - SetupHeaderOffset);

    /// <summary>The protected-mode kernel, loaded at <see cref="BootLayout.KernelLoadAddress"/>.</summary>
    public ReadOnlySpan<byte> ProtectedModeKernel => _image.AsSpan(PayloadOffset);

    /// <summary>Whether <paramref name="image"/> starts like a bzImage (boot flag and "HdrS").</summary>
    public static bool LooksLikeBzImage(ReadOnlySpan<byte> image) =>
        image.Length >= MagicOffset + 4
        && BinaryPrimitives.ReadUInt16LittleEndian(image[BootFlagOffset..]) == 0xAA55
        && BinaryPrimitives.ReadUInt32LittleEndian(image[MagicOffset..]) == HdrSMagic;

    /// <summary>Parses and checks <paramref name="image"/>; <paramref name="name"/> names it in errors.</summary>
    /// <exception cref="BootImageException">The image is truncated, not a bzImage, too old, or has no 64-bit entry.</exception>
    public static BzImage Parse(byte[] image, string name)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Length < MinimumHeaderEnd)
        {
            throw new BootImageException($"{name}: truncated: {image.Length} bytes is shorter than a bzImage setup header (0x{MinimumHeaderEnd:x} bytes).");
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(BootFlagOffset)) != 0xAA55)
        {
            throw new BootImageException($"{name}: not a bzImage: no 0xAA55 boot flag at 0x{BootFlagOffset:x}.");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(MagicOffset)) != HdrSMagic)
        {
            throw new BootImageException($"{name}: not a bzImage: the setup header magic at 0x{MagicOffset:x} is not \"HdrS\".");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(VersionOffset));
        if (version < MinimumProtocol)
        {
            throw new BootImageException($"{name}: boot protocol {version >> 8}.{version & 0xFF:d2} is too old; the 64-bit entry needs 2.12 or newer.");
        }

        int headerEnd = JumpOffset + 2 + image[JumpOffset + 1];
        if (headerEnd < MinimumHeaderEnd || headerEnd > image.Length)
        {
            throw new BootImageException($"{name}: the setup header claims to end at 0x{headerEnd:x}, outside [0x{MinimumHeaderEnd:x}, 0x{image.Length:x}].");
        }

        BzImage parsed = new(image, headerEnd);
        if ((parsed.LoadFlags & LoadedHigh) == 0)
        {
            throw new BootImageException($"{name}: loadflags 0x{parsed.LoadFlags:x2} lacks LOADED_HIGH: a zImage loaded at 0x10000 is not supported.");
        }

        if ((parsed.XLoadFlags & KernelIs64Bit) == 0)
        {
            throw new BootImageException($"{name}: xloadflags 0x{parsed.XLoadFlags:x4} lacks XLF_KERNEL_64: the kernel has no 64-bit entry point.");
        }

        if (parsed.PayloadOffset >= image.Length)
        {
            throw new BootImageException($"{name}: truncated: {parsed.SetupSectors} setup sectors put the kernel at 0x{parsed.PayloadOffset:x}, past the end of the {image.Length}-byte file.");
        }

        return parsed;
    }
}
