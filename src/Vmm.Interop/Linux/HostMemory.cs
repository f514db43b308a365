using Microsoft.Win32.SafeHandles;

namespace Vmm.Interop;

/// <summary>
/// The memory calls the device model needs, with the native names kept in here: memfd-backed RAM, shared file
/// mappings, inaccessible reservations and fixed replacements inside them.
/// </summary>
internal static class HostMemory
{
    private static readonly ulong s_pageSize = (ulong)global::Interop.CheckIo(global::Interop.SysConf(global::Interop._SC_PAGESIZE), "sysconf(_SC_PAGESIZE)");

    /// <summary>The host page size.</summary>
    public static ulong PageSize => s_pageSize;

    /// <summary>Whether <paramref name="value"/> is a multiple of the page size.</summary>
    public static bool IsPageAligned(ulong value) => (value & (s_pageSize - 1)) == 0;

    /// <summary>Creates an anonymous memory file (close-on-exec) of <paramref name="size"/> bytes.</summary>
    public static SafeFileHandle CreateMemoryFile(string name, ulong size)
    {
        SafeFileHandle file = global::Interop.CheckIo(global::Interop.MemfdCreate(name, global::Interop.MFD_CLOEXEC), "memfd_create");
        try
        {
            global::Interop.CheckIo(global::Interop.Ftruncate(file, checked((long)size)), "ftruncate");
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="file"/> shared, readable and optionally writable.</summary>
    public static SafeMemoryMapping MapShared(SafeFileHandle file, long offset, ulong length, bool writable)
    {
        int protection = global::Interop.PROT_READ | (writable ? global::Interop.PROT_WRITE : 0);
        nint address = global::Interop.Mmap(0, (nuint)length, protection, global::Interop.MAP_SHARED, file, offset);
        if (address == global::Interop.MAP_FAILED)
        {
            global::Interop.ThrowForLastError("mmap(MAP_SHARED)");
        }

        return new SafeMemoryMapping(address, length);
    }

    /// <summary>Reserves address space that any access faults on (PROT_NONE, no swap reservation).</summary>
    public static SafeMemoryMapping ReserveInaccessible(ulong length)
    {
        nint address = global::Interop.MmapAnonymous(0, (nuint)length, global::Interop.PROT_NONE, InaccessibleFlags, -1, 0);
        if (address == global::Interop.MAP_FAILED)
        {
            global::Interop.ThrowForLastError("mmap(PROT_NONE)");
        }

        return new SafeMemoryMapping(address, length);
    }

    /// <summary>Replaces the pages at <paramref name="address"/> with a shared mapping of <paramref name="file"/>.</summary>
    public static void MapSharedFixed(nint address, ulong length, SafeFileHandle file, long offset, bool writable)
    {
        int protection = global::Interop.PROT_READ | (writable ? global::Interop.PROT_WRITE : 0);
        nint result = global::Interop.Mmap(address, (nuint)length, protection, global::Interop.MAP_SHARED | global::Interop.MAP_FIXED, file, offset);
        if (result == global::Interop.MAP_FAILED)
        {
            global::Interop.ThrowForLastError("mmap(MAP_SHARED|MAP_FIXED)");
        }
    }

    /// <summary>Replaces the pages at <paramref name="address"/> with inaccessible anonymous memory.</summary>
    public static void MakeInaccessibleFixed(nint address, ulong length)
    {
        nint result = global::Interop.MmapAnonymous(address, (nuint)length, global::Interop.PROT_NONE, InaccessibleFlags | global::Interop.MAP_FIXED, -1, 0);
        if (result == global::Interop.MAP_FAILED)
        {
            global::Interop.ThrowForLastError("mmap(PROT_NONE|MAP_FIXED)");
        }
    }

    /// <summary>Changes the protection of a mapped range.</summary>
    public static void Protect(nint address, ulong length, bool readable, bool writable)
    {
        int protection = (readable ? global::Interop.PROT_READ : 0) | (writable ? global::Interop.PROT_WRITE : 0);
        global::Interop.CheckIo(global::Interop.Mprotect(address, (nuint)length, protection), "mprotect");
    }

    /// <summary>Keeps a range out of forked children (guest RAM must not be copied on fork).</summary>
    public static void ExcludeFromFork(nint address, ulong length) =>
        global::Interop.CheckIo(global::Interop.Madvise(address, (nuint)length, global::Interop.MADV_DONTFORK), "madvise(MADV_DONTFORK)");

    /// <summary>Frees the backing pages of a range (file-backed shared memory: punches the hole in the file).</summary>
    public static void Discard(nint address, ulong length) =>
        global::Interop.CheckIo(global::Interop.Madvise(address, (nuint)length, global::Interop.MADV_REMOVE), "madvise(MADV_REMOVE)");

    private static int InaccessibleFlags => global::Interop.MAP_PRIVATE | global::Interop.MAP_ANONYMOUS | global::Interop.MAP_NORESERVE;
}
