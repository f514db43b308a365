using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>One piece of a scatter-gather transfer, laid out as <c>struct iovec</c> (base, length).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct HostIoSegment(nint Address, nuint Length)
{
    /// <summary>The most segments one vectored call takes (IOV_MAX).</summary>
    public const int MaxCount = global::Interop.IOV_MAX;
}
