using System.Runtime.InteropServices;

internal static partial class Interop
{
    // asm-generic/mman-common.h advice values.
    internal const int MADV_DONTNEED = 4;
    internal const int MADV_REMOVE = 9;
    internal const int MADV_DONTFORK = 10;
    internal const int MADV_HUGEPAGE = 14;

    [LibraryImport(Libraries.Libc, EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(nint address, nuint length, int advice);
}
