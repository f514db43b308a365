using System.Runtime.InteropServices;

internal static partial class Interop
{
    /// <summary>recvmsg(2).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "recvmsg", SetLastError = true)]
    internal static unsafe partial nint RecvMsg(SafeHandle socket, MessageHeader* message, int flags);
}
