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

    private const int HeaderSize = 64;
    private const uint LoadSegment = 1;
    private const uint NoteSegment = 4;
    private const ushort MachineX86_64 = 62;
    private const ushort Executable = 2;

    private ElfImage(ulong entry, IReadOnlyList<ElfLoadSegment> segments, uint? pvhEntry, bool ring3)
    {
        Entry = entry;
        Segments = segments;
        PvhEntry = pvhEntry;
        IsRing3Payload = ring3;
    }

    /// <summary>e_entry: the 64-bit entry.</summary>
    public ulong Entry { get; }

    /// <summary>The PT_LOAD segments.</summary>
    public IReadOnlyList<ElfLoadSegment> Segments { get; }

    /// <summary>The PVH 32-bit entry from the Xen note, or null.</summary>
    public uint? PvhEntry { get; }

    /// <summary>Whether the image carries the Vmm ring-3 note.</summary>
    public bool IsRing3Payload { get; }

    /// <summary>The lowest physical address a segment occupies.</summary>
    public ulong LowestAddress => Segments.Min(s => s.PhysicalAddress);

    /// <summary>The end (exclusive) of the highest segment.</summary>
    public ulong HighestAddress => Segments.Max(s => s.PhysicalAddress + s.MemorySize);

    /// <summary>Whether <paramref name="image"/> starts with the ELF magic.</summary>
    public static bool LooksLikeElf(ReadOnlySpan<byte> image) => image.Length >= 4 && image[0] == 0x7F && image[1] == (byte)'E' && image[2] == (byte)'L' && image[3] == (byte)'F';

    /// <summary>Parses <paramref name="image"/>; <paramref name="name"/> names it in errors.</summary>
    /// <exception cref="BootImageException">Not a 64-bit little-endian x86-64 executable, or a header points outside the file.</exception>
    public static ElfImage Parse(byte[] image, string name)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Length < HeaderSize || !LooksLikeElf(image))
        {
            throw new BootImageException($"{name}: not an ELF file (or truncated before the 64-byte header).");
        }

        ReadOnlySpan<byte> file = image;
        if (file[4] != 2 || file[5] != 1)
        {
            throw new BootImageException($"{name}: only 64-bit little-endian ELF is supported (class {file[4]}, data {file[5]}).");
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(file[16..]) != Executable || BinaryPrimitives.ReadUInt16LittleEndian(file[18..]) != MachineX86_64)
        {
            throw new BootImageException($"{name}: not an x86-64 executable (e_type {BinaryPrimitives.ReadUInt16LittleEndian(file[16..])}, e_machine {BinaryPrimitives.ReadUInt16LittleEndian(file[18..])}).");
        }

        ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(file[24..]);
        ulong headerOffset = BinaryPrimitives.ReadUInt64LittleEndian(file[32..]);
        ushort headerSize = BinaryPrimitives.ReadUInt16LittleEndian(file[54..]);
        ushort headerCount = BinaryPrimitives.ReadUInt16LittleEndian(file[56..]);
        if (headerSize < 56 || !Fits(headerOffset, (ulong)headerSize * headerCount, image.Length))
        {
            throw new BootImageException($"{name}: truncated: program headers ({headerCount} x {headerSize} bytes at 0x{headerOffset:x}) lie outside the {image.Length}-byte file.");
        }

        List<ElfLoadSegment> segments = [];
        uint? pvhEntry = null;
        bool ring3 = false;
        for (int i = 0; i < headerCount; i++)
        {
            ReadOnlySpan<byte> header = file.Slice((int)headerOffset + (i * headerSize), headerSize);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(header);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
            ulong physical = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
            ulong fileSize = BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
            ulong memorySize = BinaryPrimitives.ReadUInt64LittleEndian(header[40..]);
            if (type is not (LoadSegment or NoteSegment))
            {
                continue;
            }

            if (!Fits(offset, fileSize, image.Length))
            {
                throw new BootImageException($"{name}: truncated: segment {i} (0x{fileSize:x} bytes at file offset 0x{offset:x}) lies outside the {image.Length}-byte file.");
            }

            if (type == LoadSegment)
            {
                if (memorySize < fileSize || physical + memorySize < physical)
                {
                    throw new BootImageException($"{name}: segment {i} is malformed (file size 0x{fileSize:x}, memory size 0x{memorySize:x}, address 0x{physical:x}).");
                }

                if (memorySize > 0)
                {
                    segments.Add(new ElfLoadSegment(physical, offset, fileSize, memorySize));
                }
            }
            else
            {
                ReadNotes(file.Slice((int)offset, (int)fileSize), ref pvhEntry, ref ring3);
            }
        }

        if (segments.Count == 0)
        {
            throw new BootImageException($"{name}: the ELF file has no loadable segment.");
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

            ReadOnlySpan<byte> name = notes.Slice(12, (int)nameSize).TrimEnd((byte)0);
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
