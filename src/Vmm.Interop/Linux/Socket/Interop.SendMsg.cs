using System.Runtime.InteropServices;

internal static partial class Interop
{
    /// <summary>sendmsg(2).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "sendmsg", SetLastError = true)]
    internal static unsafe partial nint SendMsg(SafeHandle socket, MessageHeader* message, int flags);
}
