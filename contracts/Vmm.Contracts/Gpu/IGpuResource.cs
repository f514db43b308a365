using Microsoft.Win32.SafeHandles;

namespace Vmm.Contracts.Gpu;

/// <summary>A virtio-gpu resource as a context sees it.</summary>
public interface IGpuResource
{
    /// <summary>The guest's resource id.</summary>
    uint Id { get; }

    /// <summary>The size in bytes.</summary>
    ulong Size { get; }

    /// <summary>Copies resource bytes from <paramref name="offset"/> (guest backing or host blob); returns the count.</summary>
    int Read(ulong offset, Span<byte> destination);

    /// <summary>Copies bytes into the resource at <paramref name="offset"/>; returns the count.</summary>
    int Write(ulong offset, ReadOnlySpan<byte> source);
}

/// <summary>Host memory a context hands out as a blob: a file the device can map into the host-visible window.</summary>
public interface IGpuBlob : IDisposable
{
    /// <summary>The blob's size in bytes.</summary>
    ulong Size { get; }

    /// <summary>The file (a memfd, a dma-buf) that holds the bytes.</summary>
    SafeFileHandle File { get; }

    /// <summary>Where the blob starts in <see cref="File"/>.</summary>
    long FileOffset { get; }
}
