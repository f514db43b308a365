using System.Runtime.CompilerServices;
using Vmm.Plugins.VirtioFs.Host;

/// <summary>
/// The plugin's own libc declarations, in dotnet/runtime's style: the calls Tmds.LibC does not cover (openat2,
/// renameat2, setfsuid, the xattr calls...) and those whose fd must stay a SafeHandle across the call.
/// </summary>
internal static partial class Interop
{
    // The plugin's side of the shared errno funnel (src/Common/Interop/Interop.Errno.cs): its exception type.
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static partial void ThrowForErrno(int errno, string operation) => throw new NativeCallException(operation, errno);

    internal static class Libraries
    {
        internal const string Libc = "libc";
    }
}
