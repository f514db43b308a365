using System.Runtime.InteropServices;

internal static partial class Interop
{
    // bits/confname.h
    internal const int _SC_PAGESIZE = 30;

    [LibraryImport(Libraries.Libc, EntryPoint = "sysconf", SetLastError = true)]
    internal static partial long SysConf(int name);
}
