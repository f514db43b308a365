using Microsoft.Win32.SafeHandles;

namespace Vmm.Contracts.Virtio;

/// <summary>
/// A window of guest physical address space whose pages the device maps from host files (a DAX window, a GPU
/// blob window). Unmapped ranges are inaccessible to the guest. Offsets and lengths are checked against the
/// window and must be page aligned.
/// </summary>
public interface ISharedMemoryRegion
{
    /// <summary>The region id.</summary>
    byte Id { get; }

    /// <summary>The size in bytes.</summary>
    ulong Size { get; }

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="file"/> from <paramref name="fileOffset"/> at <paramref name="offset"/> in the window, replacing what was there.</summary>
    void MapFile(ulong offset, SafeFileHandle file, long fileOffset, ulong length, bool writable);

    /// <summary>Makes a range inaccessible again.</summary>
    void Unmap(ulong offset, ulong length);
}
