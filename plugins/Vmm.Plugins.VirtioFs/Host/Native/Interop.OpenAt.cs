using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "openat", SetLastError = true)]
    internal static unsafe partial SafeFileHandle OpenAt(SafeFileHandle directory, byte* name, int flags, uint mode);

    /// <summary>openat2(2) has no glibc wrapper: through syscall(2).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
    internal static unsafe partial SafeFileHandle OpenAt2(long number, SafeFileHandle directory, byte* name, OpenHow* how, nuint size);
}
