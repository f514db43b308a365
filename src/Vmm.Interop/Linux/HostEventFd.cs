using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vmm.Interop;

/// <summary>eventfd: a 64-bit counter the kernel can signal (irqfd, ioeventfd) and threads can wait on.</summary>
internal static class HostEventFd
{
    /// <summary>Creates a close-on-exec eventfd.</summary>
    public static SafeFileHandle Create(bool nonBlocking, bool semaphore = false, uint initialValue = 0)
    {
        int flags = global::Interop.EFD_CLOEXEC | (nonBlocking ? global::Interop.EFD_NONBLOCK : 0) | (semaphore ? global::Interop.EFD_SEMAPHORE : 0);
        return global::Interop.CheckIo(global::Interop.EventFd(initialValue, flags), "eventfd");
    }

    /// <summary>Adds <paramref name="value"/> to the counter.</summary>
    public static unsafe void Signal(SafeFileHandle eventFd, ulong value = 1)
    {
        while (true)
        {
            nint written = global::Interop.Write(eventFd, (byte*)&value, sizeof(ulong));
            if (written >= 0)
            {
                return;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != global::Interop.Errno.EINTR)
            {
                global::Interop.ThrowForErrno(errno, "write(eventfd)");
            }
        }
    }

    /// <summary>
    /// Reads and clears the counter (or takes one, for a semaphore eventfd). Returns false when a non-blocking
    /// eventfd is at zero; a blocking one waits.
    /// </summary>
    public static unsafe bool TryRead(SafeFileHandle eventFd, out ulong value)
    {
        ulong result = 0;
        while (true)
        {
            nint read = global::Interop.Read(eventFd, (byte*)&result, sizeof(ulong));
            if (read >= 0)
            {
                value = result;
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == global::Interop.Errno.EAGAIN)
            {
                value = 0;
                return false;
            }

            if (errno != global::Interop.Errno.EINTR)
            {
                global::Interop.ThrowForErrno(errno, "read(eventfd)");
            }
        }
    }
}
