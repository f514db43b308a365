using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "fstatfs64", SetLastError = true)]
    internal static unsafe partial int FStatFs(SafeFileHandle fd, StatFs* result);

    [LibraryImport(Libraries.Libc, EntryPoint = "statfs64", SetLastError = true)]
    internal static unsafe partial int StatFsPath(byte* path, StatFs* result);
}
