using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "fgetxattr", SetLastError = true)]
    internal static unsafe partial nint FGetXattr(SafeFileHandle fd, byte* name, byte* value, nuint size);

    [LibraryImport(Libraries.Libc, EntryPoint = "fsetxattr", SetLastError = true)]
    internal static unsafe partial int FSetXattr(SafeFileHandle fd, byte* name, byte* value, nuint size, int flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "flistxattr", SetLastError = true)]
    internal static unsafe partial nint FListXattr(SafeFileHandle fd, byte* list, nuint size);

    [LibraryImport(Libraries.Libc, EntryPoint = "fremovexattr", SetLastError = true)]
    internal static unsafe partial int FRemoveXattr(SafeFileHandle fd, byte* name);
}
