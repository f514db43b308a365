using Microsoft.Win32.SafeHandles;

namespace Vmm.Core.Memory;

/// <summary>
/// A region of guest RAM that lives in a file someone else gave us (a vhost-user frontend's SET_MEM_TABLE):
/// <paramref name="Size"/> bytes of <paramref name="File"/> from <paramref name="FileOffset"/> appear at
/// <paramref name="GuestAddress"/>. <see cref="GuestMemory.FromFileRegions"/> takes ownership of the handle.
/// </summary>
/// <param name="File">The file (usually a memfd) holding the region's bytes.</param>
/// <param name="FileOffset">Where the region starts in the file; need not be page aligned.</param>
/// <param name="GuestAddress">The first guest physical address of the region.</param>
/// <param name="Size">The size in bytes, not zero.</param>
public readonly record struct GuestMemoryFileRegion(SafeFileHandle File, long FileOffset, ulong GuestAddress, ulong Size);
