using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Vmm.Plugins.CrossDomain.Testing.Native;

/// <summary>Descriptor and memory helpers for the guest side of the bridge (memfds, shared mappings, SysV segments).</summary>
internal static unsafe partial class GuestFd
{
    public static SafeFileHandle Own(int fd) => Host.Fd.Own(fd);

    public static int Raw(SafeHandle handle) => Host.Fd.Raw(handle);

    public static IOException Error(string what, int? errno = null) => Host.Fd.Error(what, errno);

    /// <summary>A second descriptor for the same open file (close-on-exec).</summary>
    public static SafeFileHandle Duplicate(SafeHandle file)
    {
        int fd = LibC.fcntl(Raw(file), LibC.F_DUPFD_CLOEXEC, 0);
        return fd < 0 ? throw Error("dup") : Own(fd);
    }

    /// <summary>A memfd of <paramref name="size"/> bytes, what a client gets for a segment the server made.</summary>
    public static SafeFileHandle CreateMemfd(string name, long size) => Host.Fd.CreateMemfd(name, size);

    public static long Size(SafeHandle file) => LibC.lseek(Raw(file), 0, LibC.SEEK_END);

    /// <summary>Whether the file was opened read-only.</summary>
    public static bool IsReadOnly(SafeHandle file) => (LibC.fcntl(Raw(file), LibC.F_GETFL) & LibC.O_ACCMODE) == LibC.O_RDONLY;

    /// <summary>Maps <paramref name="length"/> bytes of a file shared.</summary>
    public static nint Map(SafeHandle file, long length, bool writable)
    {
        void* address = LibC.mmap(null, (size_t)(ulong)length, LibC.PROT_READ | (writable ? LibC.PROT_WRITE : 0), LibC.MAP_SHARED, Raw(file), 0);
        if (address == (void*)-1)
        {
            throw Error("mmap");
        }

        return (nint)address;
    }

    public static void Unmap(nint address, long length) => LibC.munmap((void*)address, (size_t)(ulong)length);

    /// <summary>Attaches SysV segment <paramref name="id"/>; returns its address and its page-rounded length.</summary>
    public static (nint Address, long Length) AttachSysV(int id, bool readOnly)
    {
        nint address = ShmAt(id, 0, readOnly ? ShmReadOnly : 0);
        if (address == -1)
        {
            throw Error($"shmat({id})", Marshal.GetLastPInvokeError());
        }

        // The mapping's extent in /proc/self/maps is the segment's size rounded to pages: no shmid_ds layout needed.
        Vmm.Testing.Diagnostics.ProcessMapping? mapping = Vmm.Testing.Diagnostics.ProcessMaps.Find(address);
        return (address, mapping is null ? 0 : (long)(mapping.End - mapping.Start));
    }

    public static void DetachSysV(nint address) => ShmDt(address);

    private const int ShmReadOnly = 0x1000; // SHM_RDONLY, <bits/shm.h>

    [LibraryImport("libc", EntryPoint = "shmat", SetLastError = true)]
    private static partial nint ShmAt(int id, nint address, int flags);

    [LibraryImport("libc", EntryPoint = "shmdt", SetLastError = true)]
    private static partial int ShmDt(nint address);
}
