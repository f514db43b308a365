using Vmm.Contracts.Memory;

namespace Vmm.Kvm.Boot;

/// <summary>
/// Writes the PVH <c>hvm_start_info</c> (xen/include/public/arch-x86/hvm/start_info.h, version 1): command line,
/// one module (the initrd) and the memory map.
/// </summary>
public static class PvhStartInfo
{
    /// <summary>XEN_HVM_START_MAGIC_VALUE.</summary>
    public const uint Magic = 0x336E_C578;

    /// <summary>The most memory-map entries there is room for.</summary>
    public const int MaxMemoryMapEntries = 64;

    /// <summary>Writes the start info at <see cref="BootLayout.PvhStartInfoAddress"/> and what it points to.</summary>
    public static void Write(IGuestMemory memory, ulong commandLineAddress, (ulong Address, ulong Size)? initrd, E820Entry[] memoryMap)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(memoryMap);
        if (memoryMap.Length > MaxMemoryMapEntries)
        {
            throw new BootImageException($"The memory map has {memoryMap.Length} ranges; the PVH start info holds {MaxMemoryMapEntries}.");
        }

        Span<byte> info = stackalloc byte[56];
        info.Clear();
        Le.U32(info, 0, Magic);
        Le.U32(info, 4, 1);
        if (initrd is (ulong address, ulong size))
        {
            Span<byte> module = stackalloc byte[32];
            module.Clear();
            Le.U64(module, 0, address);
            Le.U64(module, 8, size);
            memory.Write(BootLayout.PvhModuleListAddress, module);
            Le.U32(info, 12, 1);
            Le.U64(info, 16, BootLayout.PvhModuleListAddress);
        }

        Le.U64(info, 24, commandLineAddress);
        Le.U64(info, 40, BootLayout.PvhMemoryMapAddress);
        Le.U32(info, 48, (uint)memoryMap.Length);
        memory.Write(BootLayout.PvhStartInfoAddress, info);

        Span<byte> entry = stackalloc byte[24];
        for (int i = 0; i < memoryMap.Length; i++)
        {
            entry.Clear();
            Le.U64(entry, 0, memoryMap[i].Address);
            Le.U64(entry, 8, memoryMap[i].Size);
            Le.U32(entry, 16, (uint)memoryMap[i].Type);
            memory.Write(BootLayout.PvhMemoryMapAddress + (ulong)(i * 24), entry);
        }
    }
}
