using System.Buffers.Binary;

namespace Vmm.Kvm.Boot;

/// <summary>One PT_LOAD segment of an ELF image.</summary>
/// <param name="PhysicalAddress">Where it is loaded (p_paddr).</param>
/// <param name="FileOffset">Where its bytes start in the file.</param>
/// <param name="FileSize">Bytes taken from the file.</param>
/// <param name="MemorySize">Bytes it occupies in memory (the rest is zeroed).</param>
public readonly record struct ElfLoadSegment(ulong PhysicalAddress, ulong FileOffset, ulong FileSize, ulong MemorySize);

/// <summary>
/// An x86-64 ELF executable to boot: an uncompressed <c>vmlinux</c> or a small payload. Reads its PT_LOAD segments
/// and its notes: <c>XEN_ELFNOTE_PHYS32_ENTRY</c> (PVH entry) and <see cref="VmmNoteName"/>/<see cref="Ring3NoteType"/>
/// (a payload that wants to run in ring 3 under <see cref="Payloads.LongModeGuest"/>).
/// </summary>
public sealed class ElfImage
{
    /// <summary>The note owner of Vmm's own ELF notes.</summary>
    public const string VmmNoteName = "Vmm";

    /// <summary>Vmm note type: "enter e_entry in 64-bit ring 3 with the LongModeGuest layout" (no descriptor).</summary>
    public const uint Ring3NoteType = 1;

    /// <summary>XEN_ELFNOTE_PHYS32_ENTRY: the PVH 32-bit entry point.</summary>
    public const uint XenPhys32EntryNoteType = 18;

    private const int IdentSize = 16;
    private const byte ClassElf32 = 1;
    private const byte ClassElf64 = 2;
    private const byte LittleEndian = 1;
    private const uint LoadSegment = 1;
    private const uint NoteSegment = 4;
    private const ushort MachineI386 = 3;
    private const ushort MachineX86_64 = 62;
    private const ushort Executable = 2;

    private ElfImage(ulong entry, ElfLoadSegment[] segments, uint? pvhEntry, bool ring3)
    {
        Entry = entry;
        Segments = segments;
        PvhEntry = pvhEntry;
        IsRing3Payload = ring3;
    }

    /// <summary>e_entry: the 64-bit entry.</summary>
    public ulong Entry { get; }

    /// <summary>The PT_LOAD segments.</summary>
    /// <remarks>An array: a list of structs is generic code the start-up path would JIT-compile.</remarks>
    public ElfLoadSegment[] Segments { get; }

    /// <summary>The PVH 32-bit entry from the Xen note, or null.</summary>
    public uint? PvhEntry { get; }

    /// <summary>Whether the image carries the Vmm ring-3 note.</summary>
    public bool IsRing3Payload { get; }

    /// <summary>The lowest physical address a segment occupies.</summary>
    public ulong LowestAddress
    {
        get
        {
            ulong lowest = ulong.MaxValue;
            foreach (ElfLoadSegment segment in Segments)
            {
                lowest = Math.Min(lowest, segment.PhysicalAddress);
            }

            return lowest;
        }
    }

    /// <summary>The end (exclusive) of the highest segment.</summary>
    public ulong HighestAddress
    {
        get
        {
            ulong highest = 0;
            foreach (ElfLoadSegment segment in Segments)
            {
                highest = Math.Max(highest, segment.PhysicalAddress + segment.MemorySize);
            }

            return highest;
        }
    }

    /// <summary>Whether <paramref name="image"/> starts with the ELF magic.</summary>
    public static bool LooksLikeElf(ReadOnlySpan<byte> image) => image.Length >= 4 && image[0] == 0x7F && image[1] == (byte)'E' && image[2] == (byte)'L' && image[3] == (byte)'F';

    /// <summary>Parses <paramref name="image"/>; <paramref name="name"/> names it in errors.</summary>
    /// <exception cref="BootImageException">
    /// Not a little-endian x86 executable (ELF64 x86-64, or ELF32 with a PVH entry as QEMU's microvm takes), or a
    /// header points outside the file.
    /// </exception>
    public static ElfImage Parse(byte[] image, string name)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Length < IdentSize || !LooksLikeElf(image))
        {
            throw new BootImageException($"{name}: not an ELF file (or truncated before the ELF identification).");
        }

        ReadOnlySpan<byte> file = image;
        ElfLayout layout = file[4] switch
        {
            ClassElf64 when file[5] == LittleEndian => ElfLayout.Elf64,
            ClassElf32 when file[5] == LittleEndian => ElfLayout.Elf32,
            _ => throw new BootImageException($"{name}: only little-endian ELF32 or ELF64 is supported (class {file[4]}, data {file[5]})."),
        };
        if (image.Length < layout.HeaderSize)
        {
            throw new BootImageException($"{name}: not an ELF file (or truncated before the {layout.HeaderSize}-byte header).");
        }

        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(file[ElfLayout.TypeOffset..]);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(file[ElfLayout.MachineOffset..]);
        if (type != Executable || machine is not (MachineX86_64 or MachineI386))
        {
            throw new BootImageException($"{name}: not an x86-64 or i386 executable (e_type {type}, e_machine {machine}).");
        }

        ulong entry = layout.Read(file, layout.EntryOffset);
        ulong headerOffset = layout.Read(file, layout.ProgramHeaderOffsetOffset);
        ushort headerSize = BinaryPrimitives.ReadUInt16LittleEndian(file[layout.ProgramHeaderSizeOffset..]);
        ushort headerCount = BinaryPrimitives.ReadUInt16LittleEndian(file[layout.ProgramHeaderCountOffset..]);
        if (headerSize < layout.ProgramHeaderSize || !Fits(headerOffset, (ulong)headerSize * headerCount, image.Length))
        {
            throw new BootImageException($"{name}: truncated: program headers ({headerCount} x {headerSize} bytes at 0x{headerOffset:x}) lie outside the {image.Length}-byte file.");
        }

        var segments = new ElfLoadSegment[headerCount];
        int segmentCount = 0;
        uint? pvhEntry = null;
        bool ring3 = false;
        for (int i = 0; i < headerCount; i++)
        {
            ReadOnlySpan<byte> header = file.Slice((int)headerOffset + (i * headerSize), headerSize);
            uint segmentType = BinaryPrimitives.ReadUInt32LittleEndian(header);
            if (segmentType is not (LoadSegment or NoteSegment))
            {
                continue;
            }

            ulong offset = layout.Read(header, layout.SegmentFileOffsetOffset);
            ulong physical = layout.Read(header, layout.SegmentPhysicalAddressOffset);
            ulong fileSize = layout.Read(header, layout.SegmentFileSizeOffset);
            ulong memorySize = layout.Read(header, layout.SegmentMemorySizeOffset);
            if (!Fits(offset, fileSize, image.Length))
            {
                throw new BootImageException($"{name}: truncated: segment {i} (0x{fileSize:x} bytes at file offset 0x{offset:x}) lies outside the {image.Length}-byte file.");
            }

            if (segmentType == LoadSegment)
            {
                if (memorySize < fileSize || physical + memorySize < physical)
                {
                    throw new BootImageException($"{name}: segment {i} is malformed (file size 0x{fileSize:x}, memory size 0x{memorySize:x}, address 0x{physical:x}).");
                }

                if (memorySize > 0)
                {
                    segments[segmentCount++] = new ElfLoadSegment(physical, offset, fileSize, memorySize);
                }
            }
            else
            {
                ReadNotes(file.Slice((int)offset, (int)fileSize), ref pvhEntry, ref ring3);
            }
        }

        if (segmentCount == 0)
        {
            throw new BootImageException($"{name}: the ELF file has no loadable segment.");
        }

        if (layout == ElfLayout.Elf32 && (pvhEntry is null || ring3))
        {
            throw new BootImageException($"{name}: an ELF32 image boots only through a PVH entry (the Xen note XEN_ELFNOTE_PHYS32_ENTRY), which it lacks.");
        }

        if (segmentCount < segments.Length)
        {
            var loaded = new ElfLoadSegment[segmentCount];
            Array.Copy(segments, loaded, segmentCount);
            segments = loaded;
        }

        return new ElfImage(entry, segments, pvhEntry, ring3);
    }

    private static void ReadNotes(ReadOnlySpan<byte> notes, ref uint? pvhEntry, ref bool ring3)
    {
        while (notes.Length >= 12)
        {
            uint nameSize = BinaryPrimitives.ReadUInt32LittleEndian(notes);
            uint descriptorSize = BinaryPrimitives.ReadUInt32LittleEndian(notes[4..]);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(notes[8..]);
            ulong nameEnd = 12 + Align4(nameSize);
            ulong end = nameEnd + Align4(descriptorSize);
            if (end > (ulong)notes.Length)
            {
                return; // a truncated note ends the list; the notes are advisory
            }

            ReadOnlySpan<byte> name = notes.Slice(12, (int)nameSize);
            while (!name.IsEmpty && name[^1] == 0)
            {
                name = name[..^1];
            }
            ReadOnlySpan<byte> descriptor = notes.Slice((int)nameEnd, (int)descriptorSize);
            if (name.SequenceEqual("Xen"u8) && type == XenPhys32EntryNoteType && descriptor.Length >= 4)
            {
                pvhEntry = BinaryPrimitives.ReadUInt32LittleEndian(descriptor);
            }
            else if (name.SequenceEqual("Vmm"u8) && type == Ring3NoteType)
            {
                ring3 = true;
            }

            notes = notes[(int)end..];
        }
    }

    private static ulong Align4(uint value) => ((ulong)value + 3) & ~3ul;

    private static bool Fits(ulong offset, ulong length, int fileLength) => offset <= (ulong)fileLength && length <= (ulong)fileLength - offset;
}

/// <summary>
/// Where the fields this loader reads sit in an ELF header and program header, per class (the System V gABI):
/// <code>
///                 ELF32  ELF64                      ELF32  ELF64
///   e_type          16     16     p_type              0      0
///   e_machine       18     18     p_offset            4      8
///   e_entry         24     24     p_paddr            12     24
///   e_phoff         28     32     p_filesz           16     32
///   e_phentsize     42     54     p_memsz            20     40
///   e_phnum         44     56     (header size)      32     56
///   (header size)   52     64
/// </code>
/// </summary>
internal sealed record ElfLayout(
    int HeaderSize,
    int AddressSize,
    int EntryOffset,
    int ProgramHeaderOffsetOffset,
    int ProgramHeaderSizeOffset,
    int ProgramHeaderCountOffset,
    int ProgramHeaderSize,
    int SegmentFileOffsetOffset,
    int SegmentPhysicalAddressOffset,
    int SegmentFileSizeOffset,
    int SegmentMemorySizeOffset)
{
    /// <summary>e_type: the same in both classes.</summary>
    public const int TypeOffset = 16;

    /// <summary>e_machine: the same in both classes.</summary>
    public const int MachineOffset = 18;

    /// <summary>The 32-bit layout.</summary>
    public static ElfLayout Elf32 { get; } = new(52, 4, 24, 28, 42, 44, 32, 4, 12, 16, 20);

    /// <summary>The 64-bit layout.</summary>
    public static ElfLayout Elf64 { get; } = new(64, 8, 24, 32, 54, 56, 56, 8, 24, 32, 40);

    /// <summary>Reads an address-sized field (Elf32_Addr/Off/Word or Elf64_Addr/Off/Xword) at <paramref name="offset"/>.</summary>
    public ulong Read(ReadOnlySpan<byte> data, int offset) => AddressSize == 8
        ? BinaryPrimitives.ReadUInt64LittleEndian(data[offset..])
        : BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);
}
