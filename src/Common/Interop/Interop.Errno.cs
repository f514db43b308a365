using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

/// <summary>
/// One source for what every assembly with libc declarations of its own needs: the errno names and the funnel from
/// a failed call to an exception. Linked into the host's Vmm.Interop and into the virtio-fs plugin (a plugin may
/// reference the contracts only, so it compiles this file rather than referencing the host); each declares its
/// own <c>ThrowForErrno</c>, which throws that assembly's exception type.
/// </summary>
internal static partial class Interop
{
    /// <summary>Throws the assembly's own exception for a failed call, carrying errno and the operation.</summary>
    [DoesNotReturn]
    internal static partial void ThrowForErrno(int errno, string operation);

    /// <summary>The one funnel from a failed libc call to a typed exception, carrying errno and the operation.</summary>
    internal static int CheckIo(int result, string operation)
    {
        if (result < 0)
        {
            ThrowForErrno(Marshal.GetLastPInvokeError(), operation);
        }

        return result;
    }

    /// <inheritdoc cref="CheckIo(int, string)"/>
    internal static long CheckIo(long result, string operation)
    {
        if (result < 0)
        {
            ThrowForErrno(Marshal.GetLastPInvokeError(), operation);
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

    /// <summary>
    /// The Linux errno values (asm-generic errno-base.h and errno.h) that callers branch on or answer with: what host
    /// calls fail with, and what FUSE replies carry (negated only in fuse_out_header.error). Checked against errno.h
    /// by the virtio-fs HeaderLayoutTests.
    /// </summary>
    internal static class Errno
    {
        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int EINTR = 4;
        public const int EIO = 5;
        public const int EBADF = 9;
        public const int EAGAIN = 11;
        public const int EACCES = 13;
        public const int EEXIST = 17;
        public const int EXDEV = 18;
        public const int ENOTDIR = 20;
        public const int EISDIR = 21;
        public const int EINVAL = 22;
        public const int ENFILE = 23;
        public const int EMFILE = 24;
        public const int ENOTTY = 25;
        public const int EFBIG = 27;
        public const int EROFS = 30;
        public const int ERANGE = 34;
        public const int ENAMETOOLONG = 36;
        public const int ENOSYS = 38;
        public const int ENODATA = 61;
        public const int EPROTO = 71;
        public const int EOVERFLOW = 75;
        public const int EOPNOTSUPP = 95;
    }
}
