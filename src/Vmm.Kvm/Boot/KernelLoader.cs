using System.Text;
using Vmm.Contracts.Memory;
using Vmm.Kvm.Payloads;

namespace Vmm.Kvm.Boot;

/// <summary>
/// Loads what <c>machine.kernel</c> names into guest memory: a bzImage (64-bit boot protocol), an ELF with a PVH note
/// (a <c>vmlinux</c> or a small payload), an ELF without one (64-bit boot protocol at e_entry), or an ELF with the
/// Vmm ring-3 note (a payload run in ring 3). Also writes the command line, initrd, MP table and boot information.
/// </summary>
public static class KernelLoader
{
    /// <summary>Loads <paramref name="kernel"/> (and <paramref name="initrd"/>) for a VM of <paramref name="memoryBytes"/> and <paramref name="vcpus"/>.</summary>
    /// <exception cref="BootImageException">The image is malformed, or it, the initrd or the command line does not fit.</exception>
    public static BootEntry Load(IGuestMemory memory, ulong memoryBytes, int vcpus, byte[] kernel, string kernelName, byte[]? initrd, string commandLine)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(commandLine);
        ulong lowEnd = Math.Min(memoryBytes, BootLayout.MmioHoleStart);
        E820Entry[] e820 = E820Entry.ForMemory(memoryBytes);
        if (ElfImage.LooksLikeElf(kernel))
        {
            ElfImage elf = ElfImage.Parse(kernel, kernelName);
            return elf.IsRing3Payload
                ? LoadRing3Payload(memory, lowEnd, elf, kernel, kernelName, initrd)
                : LoadElfKernel(memory, lowEnd, vcpus, elf, kernel, kernelName, initrd, commandLine, e820);
        }

        if (BzImage.LooksLikeBzImage(kernel))
        {
            return LoadBzImage(memory, lowEnd, vcpus, BzImage.Parse(kernel, kernelName), kernelName, initrd, commandLine, e820);
        }

        throw new BootImageException($"{kernelName}: neither a bzImage (no 0xAA55/\"HdrS\" setup header) nor an ELF file ({kernel.Length} bytes).");
    }

    /// <summary>
    /// Where an initrd of <paramref name="size"/> bytes goes: page aligned, as high as possible below
    /// <paramref name="limit"/>, above <paramref name="kernelEnd"/>.
    /// </summary>
    public static ulong PlaceInitrd(ulong size, ulong kernelEnd, ulong limit)
    {
        ulong top = limit & ~0xFFFul;
        if (size > top || ((top - size) & ~0xFFFul) < kernelEnd)
        {
            throw new BootImageException($"The initrd ({size} bytes) does not fit between the kernel's end at 0x{kernelEnd:x} and 0x{limit:x}; give the VM more memory.");
        }

        return (top - size) & ~0xFFFul;
    }

    private static BootEntry LoadBzImage(IGuestMemory memory, ulong lowEnd, int vcpus, BzImage image, string name, byte[]? initrd, string commandLine, E820Entry[] e820)
    {
        ulong kernelEnd = BootLayout.KernelLoadAddress + Math.Max((ulong)image.ProtectedModeKernel.Length, image.InitSize);
        if (kernelEnd > lowEnd)
        {
            throw new BootImageException($"{name}: the kernel needs guest memory up to 0x{kernelEnd:x} (load address + init_size) but RAM below 4 GiB ends at 0x{lowEnd:x}.");
        }

        if ((ulong)commandLine.Length > image.CommandLineSize)
        {
            throw new BootImageException($"The command line is {commandLine.Length} bytes; {name} accepts at most {image.CommandLineSize}.");
        }

        memory.Write(BootLayout.KernelLoadAddress, image.ProtectedModeKernel);
        ulong initrdLimit = Math.Min(lowEnd, (ulong)image.InitrdAddressMax + 1);
        (ulong, ulong)? placed = LoadInitrd(memory, initrd, kernelEnd, initrdLimit);
        WriteCommandLine(memory, commandLine);
        MpTable.Write(memory, vcpus);
        ZeroPage.Write(memory, image.SetupHeader, BootLayout.CommandLineAddress, placed, e820);
        return new BootEntry(BootEntryMode.Linux64, BootLayout.KernelLoadAddress + BzImage.Entry64Offset, BootLayout.ZeroPageAddress, kernelEnd, placed);
    }

    private static BootEntry LoadElfKernel(IGuestMemory memory, ulong lowEnd, int vcpus, ElfImage elf, byte[] file, string name, byte[]? initrd, string commandLine, E820Entry[] e820)
    {
        LoadSegments(memory, elf, file, name, BootLayout.LegacyHoleStart, lowEnd);
        (ulong, ulong)? placed = LoadInitrd(memory, initrd, elf.HighestAddress, lowEnd);
        WriteCommandLine(memory, commandLine);
        MpTable.Write(memory, vcpus);
        if (elf.PvhEntry is uint pvhEntry)
        {
            PvhStartInfo.Write(memory, BootLayout.CommandLineAddress, placed, e820);
            return new BootEntry(BootEntryMode.Pvh32, pvhEntry, BootLayout.PvhStartInfoAddress, elf.HighestAddress, placed);
        }

        ZeroPage.Write(memory, [], BootLayout.CommandLineAddress, placed, e820);
        return new BootEntry(BootEntryMode.Linux64, elf.Entry, BootLayout.ZeroPageAddress, elf.HighestAddress, placed);
    }

    private static BootEntry LoadRing3Payload(IGuestMemory memory, ulong lowEnd, ElfImage elf, byte[] file, string name, byte[]? initrd)
    {
        if (initrd is not null)
        {
            throw new BootImageException($"{name}: a ring-3 payload takes no initrd.");
        }

        if (lowEnd < LongModeGuest.MinimumMemorySize)
        {
            throw new BootImageException($"{name}: a ring-3 payload needs at least 0x{LongModeGuest.MinimumMemorySize:x} bytes of guest memory.");
        }

        LongModeGuest.WriteSystemTables(memory);
        LoadSegments(memory, elf, file, name, LongModeGuest.PayloadAddress, lowEnd);
        return new BootEntry(BootEntryMode.Ring3, elf.Entry, 0, elf.HighestAddress, null);
    }

    private static void LoadSegments(IGuestMemory memory, ElfImage elf, byte[] file, string name, ulong lowest, ulong end)
    {
        foreach (ElfLoadSegment segment in elf.Segments)
        {
            if (segment.PhysicalAddress < lowest || segment.PhysicalAddress + segment.MemorySize > end)
            {
                throw new BootImageException($"{name}: segment at 0x{segment.PhysicalAddress:x} (0x{segment.MemorySize:x} bytes) is outside the loadable RAM [0x{lowest:x}, 0x{end:x}).");
            }

            memory.Write(segment.PhysicalAddress, file.AsSpan((int)segment.FileOffset, (int)segment.FileSize));
            ulong zeroStart = segment.PhysicalAddress + segment.FileSize;
            ulong zeroEnd = segment.PhysicalAddress + segment.MemorySize;
            for (ulong address = zeroStart; address < zeroEnd;)
            {
                int chunk = (int)Math.Min(zeroEnd - address, 1 << 20);
                memory.GetSpan(address, chunk).Clear();
                address += (ulong)chunk;
            }
        }
    }

    private static (ulong, ulong)? LoadInitrd(IGuestMemory memory, byte[]? initrd, ulong kernelEnd, ulong limit)
    {
        if (initrd is null)
        {
            return null;
        }

        ulong address = PlaceInitrd((ulong)initrd.Length, kernelEnd, limit);
        memory.Write(address, initrd);
        return (address, (ulong)initrd.Length);
    }

    private static void WriteCommandLine(IGuestMemory memory, string commandLine)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(commandLine + "\0");
        if (bytes.Length > BootLayout.CommandLineCapacity)
        {
            throw new BootImageException($"The command line is {commandLine.Length} bytes; at most {BootLayout.CommandLineCapacity - 1} fit.");
        }

        memory.Write(BootLayout.CommandLineAddress, bytes);
    }
}
