using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Memory;
using Vmm.Interop;

namespace Vmm.Core.Memory;

/// <summary>
/// One mapped region of guest RAM: what a platform needs to register it with KVM (host address) or to share it
/// with a vhost-user backend (file and offset).
/// </summary>
public sealed class GuestMemoryRegion
{
    private readonly SafeMemoryMapping _mapping;

    internal GuestMemoryRegion(ulong guestAddress, ulong size, SafeMemoryMapping mapping, nint hostAddress, SafeFileHandle? file, long fileOffset)
    {
        GuestAddress = guestAddress;
        Size = size;
        _mapping = mapping;
        HostAddress = hostAddress;
        File = file;
        FileOffset = fileOffset;
    }

    /// <summary>The first guest physical address.</summary>
    public ulong GuestAddress { get; }

    /// <summary>The size in bytes.</summary>
    public ulong Size { get; }

    /// <summary>The guest address one past the last byte.</summary>
    public ulong End => GuestAddress + Size;

    /// <summary>Where <see cref="GuestAddress"/> is mapped in this process. Valid until the memory is disposed.</summary>
    public nint HostAddress { get; }

    /// <summary>The file that backs the region, or null for anonymous memory. Owned by the guest memory.</summary>
    public SafeFileHandle? File { get; }

    /// <summary>Where the region starts in <see cref="File"/>.</summary>
    public long FileOffset { get; }

    /// <summary>The region as the contracts describe it.</summary>
    public GuestMemoryRegionInfo Info => new(GuestAddress, Size);

    internal void Release()
    {
        _mapping.Dispose();
        File?.Dispose();
    }
}
