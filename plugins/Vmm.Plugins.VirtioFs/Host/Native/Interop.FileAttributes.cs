using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "fchmodat", SetLastError = true)]
    internal static unsafe partial int FChmodAt(SafeFileHandle directory, byte* name, uint mode, int flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "fchownat", SetLastError = true)]
    internal static unsafe partial int FChownAt(SafeFileHandle directory, byte* name, uint owner, uint group, int flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "utimensat", SetLastError = true)]
    internal static unsafe partial int UtimensAt(SafeFileHandle directory, byte* name, TimeSpec* times, int flags);
}
