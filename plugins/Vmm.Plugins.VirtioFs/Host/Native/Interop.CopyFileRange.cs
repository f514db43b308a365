using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "copy_file_range", SetLastError = true)]
    internal static unsafe partial nint CopyFileRange(SafeFileHandle input, long* inputOffset, SafeFileHandle output, long* outputOffset, nuint length, uint flags);
}
