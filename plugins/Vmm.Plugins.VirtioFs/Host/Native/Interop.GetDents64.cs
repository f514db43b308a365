using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    /// <summary>Fills <paramref name="buffer"/> with <c>struct linux_dirent64</c> records: d_ino@0 d_off@8 d_reclen@16 d_type@18 d_name@19.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "getdents64", SetLastError = true)]
    internal static unsafe partial nint GetDents64(SafeFileHandle directory, byte* buffer, nuint size);
}
