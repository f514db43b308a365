using Vmm.Core.Memory;
using Vmm.VhostUser.Protocol;

namespace Vmm.VhostUser.Backend;

/// <summary>The mapped guest memory of SET_MEM_TABLE plus the front-end's user addresses for translating ring addresses.</summary>
internal sealed class VhostUserMemoryTable : IDisposable
{
    private readonly MemoryRegionDescription[] _regions;

    public VhostUserMemoryTable(GuestMemory memory, MemoryRegionDescription[] regions)
    {
        Memory = memory;
        _regions = regions;
    }

    public GuestMemory Memory { get; }

    /// <summary>Translates a front-end user address to a guest physical address; false when no region holds it.</summary>
    public bool TryTranslate(ulong userAddress, out ulong guestAddress)
    {
        foreach (MemoryRegionDescription region in _regions)
        {
            if (userAddress >= region.UserAddress && userAddress - region.UserAddress < region.Size)
            {
                guestAddress = region.GuestAddress + (userAddress - region.UserAddress);
                return true;
            }
        }

        guestAddress = 0;
        return false;
    }

    public void Dispose() => Memory.Dispose();
}
