using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "fsync", SetLastError = true)]
    internal static partial int FSync(SafeFileHandle fd);

    [LibraryImport(Libraries.Libc, EntryPoint = "fdatasync", SetLastError = true)]
    internal static partial int FDataSync(SafeFileHandle fd);

    [LibraryImport(Libraries.Libc, EntryPoint = "syncfs", SetLastError = true)]
    internal static partial int SyncFs(SafeFileHandle fd);
}
