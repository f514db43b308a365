using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "linkat", SetLastError = true)]
    internal static unsafe partial int LinkAt(SafeFileHandle oldDirectory, byte* oldName, SafeFileHandle newDirectory, byte* newName, int flags);
}
