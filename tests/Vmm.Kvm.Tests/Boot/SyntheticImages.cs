using System.Buffers.Binary;

namespace Vmm.Kvm.Tests.Boot;

/// <summary>Hand-made kernel images for the loaders' error paths.</summary>
internal static class SyntheticImages
{
    /// <summary>A well-formed bzImage: protocol 2.15, 64-bit, 4 setup sectors, a 4 KiB kernel needing 4 MiB.</summary>
    public static byte[] BzImage(ushort version = 0x020F, byte loadFlags = 0x01, ushort xloadFlags = 0x01, int length = 0x3000, uint initSize = 0x40_0000, uint commandLineSize = 0x7FF, uint initrdMax = 0x7FFF_FFFF)
    {
        byte[] image = new byte[length];
        image[0x1F1] = 4;
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(0x1FE), 0xAA55);
        image[0x200] = 0xEB;
        image[0x201] = 0x6A; // header ends at 0x26C
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x202), 0x5372_6448);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(0x206), version);
        image[0x211] = loadFlags;
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x22C), initrdMax);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(0x236), xloadFlags);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x238), commandLineSize);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x260), initSize);
        image[0xA00] = 0xF4; // the protected-mode kernel starts at (4 + 1) * 512
        return image;
    }

    /// <summary>A minimal x86-64 ELF executable: one PT_LOAD at <paramref name="address"/> and optional notes.</summary>
    public static byte[] Elf(ulong address = 0x20_0000, ulong entry = 0x20_0000, byte[]? notes = null, byte elfClass = 2, ushort machine = 62, ulong memorySize = 0x2000, byte[]? code = null)
    {
        code ??= [0xF4, 0xEB, 0xFD];
        int headerCount = notes is null ? 1 : 2;
        int notesOffset = 64 + (56 * headerCount);
        int codeOffset = notesOffset + (notes?.Length ?? 0);
        byte[] image = new byte[codeOffset + code.Length];
        image[0] = 0x7F;
        image[1] = (byte)'E';
        image[2] = (byte)'L';
        image[3] = (byte)'F';
        image[4] = elfClass;
        image[5] = 1;
        image[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(16), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(18), machine);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(24), entry);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(32), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(54), 56);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(56), (ushort)headerCount);
        Span<byte> load = image.AsSpan(64, 56);
        BinaryPrimitives.WriteUInt32LittleEndian(load, 1);
        BinaryPrimitives.WriteUInt64LittleEndian(load[8..], (ulong)codeOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(load[16..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(load[24..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(load[32..], (ulong)code.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(load[40..], memorySize);
        if (notes is not null)
        {
            Span<byte> note = image.AsSpan(64 + 56, 56);
            BinaryPrimitives.WriteUInt32LittleEndian(note, 4);
            BinaryPrimitives.WriteUInt64LittleEndian(note[8..], (ulong)notesOffset);
            BinaryPrimitives.WriteUInt64LittleEndian(note[32..], (ulong)notes.Length);
            notes.CopyTo(image, notesOffset);
        }

        code.CopyTo(image, codeOffset);
        return image;
    }

    /// <summary>A minimal i386 ELF32 executable: one PT_LOAD at <paramref name="address"/> and optional notes (a PVH image).</summary>
    public static byte[] Elf32(uint address, byte[]? notes, uint memorySize = 0x2000)
    {
        byte[] code = [0xF4, 0xEB, 0xFD];
        int headerCount = notes is null ? 1 : 2;
        int notesOffset = 52 + (32 * headerCount);
        int codeOffset = notesOffset + (notes?.Length ?? 0);
        byte[] image = new byte[codeOffset + code.Length];
        ((ReadOnlySpan<byte>)[0x7F, (byte)'E', (byte)'L', (byte)'F']).CopyTo(image);
        image[4] = 1;
        image[5] = 1;
        image[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(16), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(18), 3);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(24), address);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(28), 52);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(42), 32);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(44), (ushort)headerCount);
        Span<byte> load = image.AsSpan(52, 32);
        BinaryPrimitives.WriteUInt32LittleEndian(load, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(load[4..], (uint)codeOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(load[8..], address);
        BinaryPrimitives.WriteUInt32LittleEndian(load[12..], address);
        BinaryPrimitives.WriteUInt32LittleEndian(load[16..], (uint)code.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(load[20..], memorySize);
        if (notes is not null)
        {
            Span<byte> note = image.AsSpan(52 + 32, 32);
            BinaryPrimitives.WriteUInt32LittleEndian(note, 4);
            BinaryPrimitives.WriteUInt32LittleEndian(note[4..], (uint)notesOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(note[16..], (uint)notes.Length);
            notes.CopyTo(image, notesOffset);
        }

        code.CopyTo(image, codeOffset);
        return image;
    }

    /// <summary>One ELF note with a 4-byte name.</summary>
    public static byte[] Note(string name, uint type, byte[] descriptor)
    {
        int descriptorLength = (descriptor.Length + 3) & ~3;
        byte[] note = new byte[12 + 4 + descriptorLength];
        BinaryPrimitives.WriteUInt32LittleEndian(note, (uint)name.Length + 1);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(4), (uint)descriptor.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(8), type);
        System.Text.Encoding.ASCII.GetBytes(name).CopyTo(note, 12);
        descriptor.CopyTo(note, 16);
        return note;
    }
}
