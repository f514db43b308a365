using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "renameat2", SetLastError = true)]
    internal static unsafe partial int RenameAt2(SafeFileHandle oldDirectory, byte* oldName, SafeFileHandle newDirectory, byte* newName, uint flags);
}
