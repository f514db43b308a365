using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Gpu;

namespace Vmm.Plugins.CrossDomain.Host;

/// <summary>A host blob over a file the context holds (a memfd the X server passed, or one it allocated).</summary>
internal sealed class FdBlob(SafeFileHandle file, ulong size, Action? disposed) : IGpuBlob
{
    private int _disposed;

    /// <inheritdoc />
    public ulong Size => size;

    /// <inheritdoc />
    public SafeFileHandle File => file;

    /// <inheritdoc />
    public long FileOffset => 0;

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            file.Dispose();
            disposed?.Invoke();
        }
    }
}
