using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "pread64", SetLastError = true)]
    internal static unsafe partial nint PRead(SafeFileHandle fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Libraries.Libc, EntryPoint = "pwrite64", SetLastError = true)]
    internal static unsafe partial nint PWrite(SafeFileHandle fd, byte* buffer, nuint count, long offset);
}
