using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "fstatat", SetLastError = true)]
    internal static unsafe partial int FStatAt(SafeFileHandle directory, byte* name, Stat* stat, int flags);
}
