using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "mknodat", SetLastError = true)]
    internal static unsafe partial int MknodAt(SafeFileHandle directory, byte* name, uint mode, ulong device);
}
