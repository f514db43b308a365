using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    /// <summary>The target is raw bytes (NUL-terminated by the caller): guests may store any byte string.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "symlinkat", SetLastError = true)]
    internal static unsafe partial int SymlinkAt(byte* target, SafeFileHandle directory, byte* name);
}
