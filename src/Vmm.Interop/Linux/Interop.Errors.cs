using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vmm.Interop;

internal static partial class Interop
{
    /// <summary>Throws for the errno the last P/Invoke left.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowForLastError(string operation) => ThrowForErrno(Marshal.GetLastPInvokeError(), operation);

    // The host's side of the shared errno funnel (src/Common/Interop/Interop.Errno.cs): its exception type.
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static partial void ThrowForErrno(int errno, string operation) => throw new NativeCallException(operation, errno);
}
