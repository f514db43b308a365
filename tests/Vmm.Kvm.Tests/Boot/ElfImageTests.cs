using System.Buffers.Binary;
using Vmm.Contracts.Memory;
using Vmm.Core.Memory;
using Vmm.Kvm.Boot;
using Xunit;

namespace Vmm.Kvm.Tests.Boot;

public sealed class ElfImageTests
{
    [Fact]
    public void DebianVmlinuxLoadsThroughItsPvhNote()
    {
        string path = GuestImageFiles.PathOrSkip("vmlinux");
        byte[] kernel = File.ReadAllBytes(path);
        ElfImage elf = ElfImage.Parse(kernel, path);
        Assert.NotNull(elf.PvhEntry);
        Assert.Equal(0x100_0000ul, elf.LowestAddress);

        const ulong memorySize = 256ul << 20;
        using GuestMemory memory = GuestMemory.Create(memorySize);
        BootEntry entry = KernelLoader.Load(memory, memorySize, 1, kernel, path, new byte[8192], "console=ttyS0");

        Assert.Equal(BootEntryMode.Pvh32, entry.Mode);
        Assert.Equal((ulong)elf.PvhEntry, entry.EntryPoint);
        Assert.Equal(BootLayout.PvhStartInfoAddress, entry.BootInfoAddress);
        ElfLoadSegment first = elf.Segments[0];
        Assert.True(memory.GetSpan(first.PhysicalAddress, 4096).SequenceEqual(kernel.AsSpan((int)first.FileOffset, 4096)));
        AssertStartInfo(memory, entry, memorySize);
    }

    [Fact]
    public void PvhPayloadGetsStartInfoWithCommandLineModuleAndMemoryMap()
    {
        byte[] pvhEntry = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(pvhEntry, 0x20_0000);
        byte[] image = SyntheticImages.Elf(notes: SyntheticImages.Note("Xen", ElfImage.XenPhys32EntryNoteType, pvhEntry));
        const ulong memorySize = 32ul << 20;
        using GuestMemory memory = GuestMemory.Create(memorySize);

        BootEntry entry = KernelLoader.Load(memory, memorySize, 1, image, "pvh", new byte[4096], "hi");

        Assert.Equal(BootEntryMode.Pvh32, entry.Mode);
        Assert.Equal(0x20_0000ul, entry.EntryPoint);
        Assert.Equal(0xF4, memory.ReadByte(0x20_0000));
        Assert.Equal(0, memory.ReadByte(0x20_1000)); // bss zeroed
        AssertStartInfo(memory, entry, memorySize);
    }

    [Fact]
    public void ElfWithoutNotesUsesThe64BitProtocolWithABuiltZeroPage()
    {
        const ulong memorySize = 32ul << 20;
        using GuestMemory memory = GuestMemory.Create(memorySize);

        BootEntry entry = KernelLoader.Load(memory, memorySize, 1, SyntheticImages.Elf(), "plain", null, "");

        Assert.Equal(BootEntryMode.Linux64, entry.Mode);
        Assert.Equal(0x20_0000ul, entry.EntryPoint);
        Assert.Equal(0xAA55, memory.ReadUInt16(BootLayout.ZeroPageAddress + 0x1FE));
        Assert.Equal(0x5372_6448u, memory.ReadUInt32(BootLayout.ZeroPageAddress + 0x202));
    }

    [Fact]
    public void VmmNoteMarksARing3Payload()
    {
        byte[] image = SyntheticImages.Elf(address: 0x10_0000, entry: 0x10_0000, notes: SyntheticImages.Note("Vmm", ElfImage.Ring3NoteType, []));
        const ulong memorySize = 8ul << 20;
        using GuestMemory memory = GuestMemory.Create(memorySize);

        BootEntry entry = KernelLoader.Load(memory, memorySize, 1, image, "ring3", null, "");

        Assert.Equal(BootEntryMode.Ring3, entry.Mode);
        Assert.Equal(0x10_0000ul, entry.EntryPoint);
        Assert.NotEqual(0ul, memory.ReadUInt64(BootLayout.Pml4Address)); // the LongModeGuest tables were written
    }

    [Fact]
    public void BuiltRingThreeRngPayloadCarriesTheVmmNote()
    {
        string path = KvmTestEnvironment.ElfPayloadPathOrSkip("rng-ring3");
        ElfImage elf = ElfImage.Parse(File.ReadAllBytes(path), path);
        Assert.True(elf.IsRing3Payload);
        Assert.Null(elf.PvhEntry);

        string pvh = KvmTestEnvironment.ElfPayloadPathOrSkip("pvh-hello");
        Assert.Equal(0x10_0000u, ElfImage.Parse(File.ReadAllBytes(pvh), pvh).PvhEntry);
    }

    [Fact]
    public void HostileElfHeadersAreRejected()
    {
        Assert.Contains("not an ELF", Assert.Throws<BootImageException>(() => ElfImage.Parse(SyntheticImages.Elf()[..40], "t")).Message, StringComparison.Ordinal);
        Assert.Contains("ELF32 or ELF64", Assert.Throws<BootImageException>(() => ElfImage.Parse(SyntheticImages.Elf(elfClass: 3), "c")).Message, StringComparison.Ordinal);
        Assert.Contains("x86-64 or i386", Assert.Throws<BootImageException>(() => ElfImage.Parse(SyntheticImages.Elf(machine: 183), "m")).Message, StringComparison.Ordinal);

        byte[] truncated = SyntheticImages.Elf();
        BinaryPrimitives.WriteUInt64LittleEndian(truncated.AsSpan(64 + 8), 0x10_0000); // p_offset past the end
        Assert.Contains("truncated", Assert.Throws<BootImageException>(() => ElfImage.Parse(truncated, "o")).Message, StringComparison.Ordinal);

        byte[] headers = SyntheticImages.Elf();
        BinaryPrimitives.WriteUInt16LittleEndian(headers.AsSpan(56), 1000);
        Assert.Contains("program headers", Assert.Throws<BootImageException>(() => ElfImage.Parse(headers, "h")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SegmentOutsideRamOrOverTheBootTablesIsRejected()
    {
        using GuestMemory memory = GuestMemory.Create(8ul << 20);
        Assert.Contains("outside the loadable RAM", Assert.Throws<BootImageException>(() => KernelLoader.Load(memory, 8ul << 20, 1, SyntheticImages.Elf(address: 0x7F_0000, memorySize: 0x20_0000), "big", null, "")).Message, StringComparison.Ordinal);
        Assert.Contains("outside the loadable RAM", Assert.Throws<BootImageException>(() => KernelLoader.Load(memory, 8ul << 20, 1, SyntheticImages.Elf(address: 0x8000), "low", null, "")).Message, StringComparison.Ordinal);
        Assert.Contains("outside the loadable RAM", Assert.Throws<BootImageException>(() => KernelLoader.Load(memory, 8ul << 20, 1, SyntheticImages.Elf(address: 0x9_F000), "mp-table", null, "")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PvhImageWhoseFirstSegmentSitsInTheLegacyHole_Loads_AsQemuMicrovmTakesIt()
    {
        // An ELF64 whose first PT_LOAD (ELF header and PVH note) sits at 0xff000, its code at 1 MiB.
        byte[] pvhEntry = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(pvhEntry, 0x10_0000);
        byte[] image = SyntheticImages.Elf(address: 0xF_F000, entry: 0x10_0000, memorySize: 0x2000, notes: SyntheticImages.Note("Xen", ElfImage.XenPhys32EntryNoteType, pvhEntry));
        const ulong memorySize = 16ul << 20;
        using GuestMemory memory = GuestMemory.Create(memorySize);

        BootEntry entry = KernelLoader.Load(memory, memorySize, 1, image, "pvh-0xff000", null, "console=ttyS0");

        Assert.Equal(BootEntryMode.Pvh32, entry.Mode);
        Assert.Equal(0x10_0000ul, entry.EntryPoint);
        Assert.Equal(0xF4, memory.ReadByte(0xF_F000));
    }

    [Fact]
    public void Elf32WithAPvhNote_Loads_AndWithoutOneIsRefusedWithTheReason()
    {
        byte[] pvhEntry = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(pvhEntry, 0x10_0000);
        byte[] image = SyntheticImages.Elf32(address: 0x10_0000, notes: SyntheticImages.Note("Xen", ElfImage.XenPhys32EntryNoteType, pvhEntry));
        const ulong memorySize = 16ul << 20;
        using GuestMemory memory = GuestMemory.Create(memorySize);

        BootEntry entry = KernelLoader.Load(memory, memorySize, 1, image, "pvh32", new byte[4096], "hi");

        Assert.Equal(BootEntryMode.Pvh32, entry.Mode);
        Assert.Equal(0x10_0000ul, entry.EntryPoint);
        Assert.Equal(0xF4, memory.ReadByte(0x10_0000));
        Assert.Equal(0, memory.ReadByte(0x10_1000)); // bss zeroed
        AssertStartInfo(memory, entry, memorySize);

        BootImageException refused = Assert.Throws<BootImageException>(() => ElfImage.Parse(SyntheticImages.Elf32(address: 0x10_0000, notes: null), "plain32"));
        Assert.Contains("PVH entry", refused.Message, StringComparison.Ordinal);
    }

    private static void AssertStartInfo(GuestMemory memory, BootEntry entry, ulong memorySize)
    {
        ulong info = BootLayout.PvhStartInfoAddress;
        Assert.Equal(PvhStartInfo.Magic, memory.ReadUInt32(info));
        Assert.Equal(1u, memory.ReadUInt32(info + 4));
        Assert.Equal(1u, memory.ReadUInt32(info + 12));
        ulong modules = memory.ReadUInt64(info + 16);
        Assert.Equal(entry.Initrd!.Value.Address, memory.ReadUInt64(modules));
        Assert.Equal(entry.Initrd!.Value.Size, memory.ReadUInt64(modules + 8));
        Assert.Equal(BootLayout.CommandLineAddress, memory.ReadUInt64(info + 24));
        ulong map = memory.ReadUInt64(info + 40);
        uint count = memory.ReadUInt32(info + 48);
        IReadOnlyList<E820Entry> expected = E820Entry.ForMemory(memorySize);
        Assert.Equal((uint)expected.Count, count);
        for (int i = 0; i < count; i++)
        {
            ulong at = map + (ulong)(i * 24);
            Assert.Equal(expected[i], new E820Entry(memory.ReadUInt64(at), memory.ReadUInt64(at + 8), (E820Type)memory.ReadUInt32(at + 16)));
        }
    }
}
