using System.Runtime.InteropServices;

internal static partial class Interop
{
    // setfsuid/setfsgid change only the calling thread's file-system ids (glibc does not broadcast them to other
    // threads, unlike setuid/setgroups). They return the previous id and report no errno.
    [LibraryImport(Libraries.Libc, EntryPoint = "setfsuid")]
    internal static partial int SetFsUid(uint uid);

    [LibraryImport(Libraries.Libc, EntryPoint = "setfsgid")]
    internal static partial int SetFsGid(uint gid);

    // The raw system call, not glibc's setgroups (which broadcasts to every thread of the process): it empties
    // only the calling thread's supplementary groups.
    [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
    internal static unsafe partial long SetGroupsRaw(long number, nint count, uint* groups);

    internal static class Credentials
    {
        /// <summary>SYS_setgroups on x86-64.</summary>
        internal const long SYS_setgroups_x86_64 = 116;

        /// <summary>SYS_setgroups on arm64 (the generic table).</summary>
        internal const long SYS_setgroups_arm64 = 159;

        /// <summary>CAP_SETGID, the bit in CapEff.</summary>
        internal const int CAP_SETGID = 6;

        /// <summary>CAP_SETUID, the bit in CapEff.</summary>
        internal const int CAP_SETUID = 7;
    }
}
