using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    /// <summary>eventfd(2) flags.</summary>
    internal const int EFD_NONBLOCK = 0x800;
    internal const int EFD_CLOEXEC = 0x80000;

    /// <summary>poll(2) event bits.</summary>
    internal const short POLLIN = 0x1;

    /// <summary><c>struct pollfd</c>: int fd at 0, short events at 4, short revents at 6.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary><c>eventfd(initval, flags)</c>; the result is invalid on failure (errno set).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial SafeFileHandle EventFd(uint initialValue, int flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    /// <summary>Reads an eventfd's 8-byte counter (clearing it); -1 with EAGAIN when it is 0 and non-blocking.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)]
    internal static unsafe partial nint ReadCounter(SafeHandle fd, ulong* value, nuint size);

    /// <summary>Adds to an eventfd's 8-byte counter.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint WriteCounter(SafeHandle fd, ulong* value, nuint size);
}
