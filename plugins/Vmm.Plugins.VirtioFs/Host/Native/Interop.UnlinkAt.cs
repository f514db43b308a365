using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "unlinkat", SetLastError = true)]
    internal static unsafe partial int UnlinkAt(SafeFileHandle directory, byte* name, int flags);
}
