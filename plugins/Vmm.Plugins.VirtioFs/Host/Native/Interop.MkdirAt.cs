using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "mkdirat", SetLastError = true)]
    internal static unsafe partial int MkdirAt(SafeFileHandle directory, byte* name, uint mode);
}
