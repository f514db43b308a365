using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    /// <summary>IOV_MAX on Linux.</summary>
    internal const int IOV_MAX = 1024;

    [LibraryImport(Libraries.Libc, EntryPoint = "pread64", SetLastError = true)]
    internal static unsafe partial nint PRead(SafeFileHandle fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Libraries.Libc, EntryPoint = "pwrite64", SetLastError = true)]
    internal static unsafe partial nint PWrite(SafeFileHandle fd, byte* buffer, nuint count, long offset);

    /// <summary>preadv; <paramref name="vectors"/> points to <c>struct iovec</c>s (<see cref="Vmm.Interop.HostIoSegment"/> has the layout).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "preadv64", SetLastError = true)]
    internal static unsafe partial nint PReadV(SafeFileHandle fd, void* vectors, int count, long offset);

    [LibraryImport(Libraries.Libc, EntryPoint = "pwritev64", SetLastError = true)]
    internal static unsafe partial nint PWriteV(SafeFileHandle fd, void* vectors, int count, long offset);
}
