using System.Runtime.InteropServices;

internal static partial class Interop
{
    /// <summary>poll(2) event bits (asm-generic/poll.h).</summary>
    internal static class PollEvents
    {
        internal const short POLLIN = 0x001;
        internal const short POLLERR = 0x008;
        internal const short POLLHUP = 0x010;
        internal const short POLLNVAL = 0x020;
    }

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollDescriptor
    {
        internal int fd;
        internal short events;
        internal short revents;
    }

    /// <summary>poll(2).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int Poll(PollDescriptor* descriptors, nuint count, int timeoutMilliseconds);
}
