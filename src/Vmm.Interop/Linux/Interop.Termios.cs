using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    /// <summary>
    /// <c>sizeof(struct termios)</c> on Linux with glibc (x86-64 and arm64). vmm only saves, makes raw (cfmakeraw) and
    /// restores a terminal's settings, so the struct stays an opaque buffer of this size.
    /// </summary>
    internal const int TermiosSize = 60;

    /// <summary><c>TCSANOW</c>: the change takes effect at once.</summary>
    internal const int TcsaNow = 0;

    [LibraryImport(Libraries.Libc, EntryPoint = "tcgetattr", SetLastError = true)]
    internal static partial int TcGetAttr(SafeFileHandle fd, Span<byte> termios);

    [LibraryImport(Libraries.Libc, EntryPoint = "tcsetattr", SetLastError = true)]
    internal static partial int TcSetAttr(SafeFileHandle fd, int optionalActions, ReadOnlySpan<byte> termios);

    [LibraryImport(Libraries.Libc, EntryPoint = "cfmakeraw")]
    internal static partial void CfMakeRaw(Span<byte> termios);
}
