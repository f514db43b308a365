using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "fallocate64", SetLastError = true)]
    internal static partial int Fallocate(SafeFileHandle fd, int mode, long offset, long length);
}
