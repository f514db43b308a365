using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vmm.Interop;

internal static partial class Interop
{
    /// <summary>Errno values the callers branch on (asm-generic/errno-base.h).</summary>
    internal static class Errno
    {
        internal const int EPERM = 1;
        internal const int ENOENT = 2;
        internal const int EINTR = 4;
        internal const int EIO = 5;
        internal const int EBADF = 9;
        internal const int EAGAIN = 11;
        internal const int ENOMEM = 12;
        internal const int EACCES = 13;
        internal const int EFAULT = 14;
        internal const int EEXIST = 17;
        internal const int EINVAL = 22;
        internal const int ENOSPC = 28;
        internal const int ENOSYS = 38;
    }

    /// <summary>The one funnel from a failed libc call to a typed exception, carrying errno and the operation.</summary>
    internal static int CheckIo(int result, string operation)
    {
        if (result < 0)
        {
            ThrowForLastError(operation);
        }

        return result;
    }

    /// <inheritdoc cref="CheckIo(int, string)"/>
    internal static long CheckIo(long result, string operation)
    {
        if (result < 0)
        {
            ThrowForLastError(operation);
        }

        return result;
    }

    /// <summary>Checks a handle a call returned; an invalid one throws with errno.</summary>
    internal static T CheckIo<T>(T handle, string operation)
        where T : SafeHandle
    {
        if (handle.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            ThrowForErrno(errno, operation);
        }

        return handle;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowForLastError(string operation) => ThrowForErrno(Marshal.GetLastPInvokeError(), operation);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowForErrno(int errno, string operation) => throw new NativeCallException(operation, errno);
}
