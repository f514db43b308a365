using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    /// <summary>fcntl's F_DUPFD_CLOEXEC: a second descriptor for the same open file.</summary>
    internal const int F_DUPFD_CLOEXEC = 1030;

    /// <summary><c>fcntl(fd, F_DUPFD_CLOEXEC, lowest)</c>; the result is invalid on failure (errno set).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial SafeFileHandle FcntlDuplicate(SafeFileHandle fd, int command, int lowest);
}
