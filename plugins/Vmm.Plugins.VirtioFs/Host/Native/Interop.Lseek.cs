using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "lseek64", SetLastError = true)]
    internal static partial long Lseek(SafeFileHandle fd, long offset, int whence);
}
