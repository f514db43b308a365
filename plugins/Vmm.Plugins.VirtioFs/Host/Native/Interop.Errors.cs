using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vmm.Plugins.VirtioFs.Host;

/// <summary>
/// The plugin's own libc declarations, in dotnet/runtime's style: the calls Tmds.LibC does not cover (openat2,
/// renameat2, setfsuid, the xattr calls...) and those whose fd must stay a SafeHandle across the call.
/// </summary>
internal static partial class Interop
{
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

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowForErrno(int errno, string operation) => throw new NativeCallException(operation, errno);

    internal static class Libraries
    {
        internal const string Libc = "libc";
    }
}
