using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;

    [LibraryImport(Libraries.Libc, EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFdCore(uint initialValue, int flags);

    /// <summary>Creates an eventfd (close-on-exec plus <paramref name="flags"/>).</summary>
    internal static SafeFileHandle EventFd(uint initialValue, int flags)
    {
        int fd = CheckIo(EventFdCore(initialValue, flags | EFD_CLOEXEC), "eventfd");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Adds <paramref name="value"/> to the eventfd's counter. Returns 0, or -1 with errno.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "eventfd_write", SetLastError = true)]
    internal static partial int EventFdWrite(SafeHandle fd, ulong value);

    /// <summary>Reads and resets the eventfd's counter. Returns 0, or -1 with errno (EAGAIN when non-blocking and zero).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "eventfd_read", SetLastError = true)]
    internal static partial int EventFdRead(SafeHandle fd, out ulong value);
}
