namespace Vmm.Kvm.Boot;

/// <summary>
/// Where the loaders put things in guest physical memory (the Firecracker / cloud-hypervisor layout): boot GDT, PVH
/// start info, zero page, boot stack, page tables, command line, MP table, kernel at 1 MiB; RAM stops at the 32-bit
/// MMIO hole and continues at 4 GiB.
/// </summary>
public static class BootLayout
{
    /// <summary>The boot GDT (4 entries).</summary>
    public const ulong GdtAddress = 0x500;

    /// <summary>The boot IDT (one zero entry: any exception before the kernel sets its own is a triple fault).</summary>
    public const ulong IdtAddress = 0x520;

    /// <summary>The PVH <c>hvm_start_info</c>.</summary>
    public const ulong PvhStartInfoAddress = 0x6000;

    /// <summary>The PVH module list (one entry: the initrd).</summary>
    public const ulong PvhModuleListAddress = 0x6040;

    /// <summary>The PVH memory map.</summary>
    public const ulong PvhMemoryMapAddress = 0x6080;

    /// <summary>The Linux zero page (<c>struct boot_params</c>); RSI points here at the 64-bit entry.</summary>
    public const ulong ZeroPageAddress = 0x7000;

    /// <summary>The initial stack pointer.</summary>
    public const ulong BootStackPointer = 0x8FF0;

    /// <summary>PML4 of the boot identity map.</summary>
    public const ulong Pml4Address = 0x9000;

    /// <summary>PDPT of the boot identity map.</summary>
    public const ulong PdptAddress = 0xA000;

    /// <summary>The first of four page directories (0xB000..0xEFFF): 2 MiB pages covering 4 GiB.</summary>
    public const ulong PageDirectoryAddress = 0xB000;

    /// <summary>The kernel command line.</summary>
    public const ulong CommandLineAddress = 0x2_0000;

    /// <summary>The most command-line bytes there is room for at <see cref="CommandLineAddress"/>.</summary>
    public const int CommandLineCapacity = 0x1_0000;

    /// <summary>The MP floating pointer, followed by the MP configuration table (the last KiB of base memory).</summary>
    public const ulong MpTableAddress = 0x9_FC00;

    /// <summary>End of the RAM below 640 KiB the e820 map reports (the MP table sits above it, reserved).</summary>
    public const ulong BaseMemoryEnd = 0x9_FC00;

    /// <summary>
    /// Where the legacy VGA/BIOS hole starts (0xA0000-0xFFFFF). The e820 map does not report it as RAM, but guest
    /// memory backs it, so an ELF segment that needs no RAM there at run time may be loaded into it: a PVH image's
    /// ELF header and notes at 0xff000, as QEMU's microvm loads them.
    /// </summary>
    public const ulong LegacyHoleStart = 0xA_0000;

    /// <summary>Where RAM resumes after the legacy hole.</summary>
    public const ulong HighMemoryStart = 0x10_0000;

    /// <summary>Where a bzImage's protected-mode kernel is loaded.</summary>
    public const ulong KernelLoadAddress = 0x10_0000;

    /// <summary>Where low RAM ends and the 32-bit MMIO hole (PCI BARs, IOAPIC, LAPIC) starts.</summary>
    public const ulong MmioHoleStart = 0xC000_0000;

    /// <summary>Where RAM above the hole starts.</summary>
    public const ulong RamAbove4GStart = 0x1_0000_0000;

    /// <summary>Where the 64-bit PCI window starts at the latest (64 GiB): above the RAM of any VM smaller than 60 GiB.</summary>
    public const ulong Mmio64WindowStart = 0x10_0000_0000;

    /// <summary>The 64-bit PCI window's size (64 GiB): room for large prefetchable BARs (IVSHMEM), naturally aligned.</summary>
    public const ulong Mmio64WindowSize = 0x10_0000_0000;

    /// <summary>
    /// The PCI windows for <paramref name="memoryBytes"/> of guest RAM: 32-bit BARs in the hole below ECAM, 64-bit BARs
    /// from 64 GiB, or from the end of RAM rounded up to 64 GiB when RAM reaches further.
    /// </summary>
    public static Core.Pci.PciWindows PciWindows(ulong memoryBytes)
    {
        (ulong address, ulong size) = RamRegions(memoryBytes)[^1];
        ulong ramEnd = address + size;
        ulong start = Math.Max(Mmio64WindowStart, (ramEnd + Mmio64WindowSize - 1) & ~(Mmio64WindowSize - 1));
        Core.Pci.PciWindows defaults = Core.Pci.PciWindows.Default;
        return defaults with { Mmio64Start = start, Mmio64End = start + Mmio64WindowSize };
    }

    /// <summary>The RAM regions for <paramref name="memoryBytes"/> of guest memory: below the hole, then above 4 GiB.</summary>
    /// <remarks>An array: a list of value tuples is generic code the start-up path would JIT-compile.</remarks>
    public static (ulong Address, ulong Size)[] RamRegions(ulong memoryBytes)
    {
        ulong low = Math.Min(memoryBytes, MmioHoleStart);
        return memoryBytes > low ? new[] { (0ul, low), (RamAbove4GStart, memoryBytes - low) } : new[] { (0ul, low) };
    }
}
