using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "readlinkat", SetLastError = true)]
    internal static unsafe partial nint ReadLinkAt(SafeFileHandle directory, byte* name, byte* buffer, nuint size);
}
