using Vmm.Contracts.Memory;

namespace Vmm.Kvm.Boot;

/// <summary>Identity-maps the first 4 GiB with 2 MiB pages: one PML4, one PDPT, four page directories.</summary>
public static class IdentityPageTables
{
    /// <summary>The bytes of guest memory the tables occupy from the PML4 on (PML4, PDPT, 4 PDs).</summary>
    public const ulong Size = 6 * 0x1000;

    /// <summary>Writes the tables at the <see cref="BootLayout"/> addresses; <paramref name="user"/> sets U/S on every level.</summary>
    public static void Write(IGuestMemory memory, bool user)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ulong access = user ? 0x7ul : 0x3ul; // present, writable (, user)
        memory.WriteUInt64(BootLayout.Pml4Address, BootLayout.PdptAddress | access);
        byte[] directory = new byte[0x1000];
        for (ulong gib = 0; gib < 4; gib++)
        {
            ulong pd = BootLayout.PageDirectoryAddress + (gib * 0x1000);
            memory.WriteUInt64(BootLayout.PdptAddress + (gib * 8), pd | access);
            for (int i = 0; i < 512; i++)
            {
                ulong page = (gib << 30) | ((ulong)i << 21);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(directory.AsSpan(i * 8), page | access | 0x80); // PS: 2 MiB
            }

            memory.Write(pd, directory);
        }
    }
}
