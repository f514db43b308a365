using System.Numerics;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Vmm.Plugins.Ivshmem.SharedMemory;

/// <summary>
/// A shared-memory file mapped <c>MAP_SHARED</c> into this process: a host file (<c>/dev/shm/looking-glass</c>, as
/// QEMU's <c>memory-backend-file,share=on</c> uses it) or an anonymous memfd. The same pages are IVSHMEM's BAR2 in
/// the guest, a KVMFR export's memory, or a test's region; other processes that map the file see every write.
/// </summary>
internal sealed unsafe class SharedMemoryFile : IDisposable
{
    /// <summary>The smallest size IVSHMEM memory may have (Looking Glass needs more than its 5,760-byte header).</summary>
    public const long MinimumSize = 1L << 20;

    private readonly MappedMemoryHandle _mapping;

    private SharedMemoryFile(SafeFileHandle file, MappedMemoryHandle mapping, long size, string? path)
    {
        Handle = file;
        _mapping = mapping;
        Size = size;
        Path = path;
    }

    /// <summary>The file's descriptor: what a platform maps as guest memory or hands to QEMU.</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>The host path, or null for an anonymous memfd.</summary>
    public string? Path { get; }

    /// <summary>The size in bytes, the same as the mapping's.</summary>
    public long Size { get; }

    /// <summary>The start of the mapping; valid for <see cref="Size"/> bytes until <see cref="Dispose"/>.</summary>
    public byte* Pointer => (byte*)_mapping.DangerousGetHandle();

    /// <summary>
    /// Opens <paramref name="path"/>, creating it at <paramref name="size"/> bytes when it is missing or empty (as a
    /// <c>tmpfiles.d</c> rule leaves it). An existing file of another size is refused, never truncated: another VM or
    /// client may be using it.
    /// </summary>
    /// <exception cref="SharedMemoryException">The size is not allowed, or the file cannot be opened, sized or mapped.</exception>
    public static SharedMemoryFile OpenOrCreate(string path, long size)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ValidateSize(size);
        SafeFileHandle file;
        try
        {
            file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new SharedMemoryException($"cannot open or create '{path}': {exception.Message}", exception);
        }

        try
        {
            long existing = RandomAccess.GetLength(file);
            if (existing == 0)
            {
                RandomAccess.SetLength(file, size);
            }
            else if (existing != size)
            {
                throw new SharedMemoryException(
                    $"'{path}' is {existing} bytes but {size} bytes were asked for; delete it or set the size to {existing} (it is never truncated, another VM or client may use it)");
            }

            return Map(file, size, path);
        }
        catch (IOException exception)
        {
            file.Dispose();
            throw new SharedMemoryException($"cannot size '{path}' to {size} bytes: {exception.Message}", exception);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Creates an anonymous memfd of <paramref name="size"/> bytes, named <paramref name="name"/> in /proc.</summary>
    /// <exception cref="SharedMemoryException">The size is not allowed, or the memfd cannot be created or mapped.</exception>
    public static SharedMemoryFile CreateAnonymous(string name, long size)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ValidateSize(size);
        byte[] nameBytes = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        int fd;
        fixed (byte* namePointer = nameBytes)
        {
            fd = LibC.memfd_create(namePointer, LibC.MFD_CLOEXEC);
        }

        if (fd < 0)
        {
            throw new SharedMemoryException($"memfd_create failed: {ErrnoMessage()}");
        }

        var file = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (LibC.ftruncate(fd, size) != 0)
            {
                throw new SharedMemoryException($"cannot size the memfd to {size} bytes: {ErrnoMessage()}");
            }

            return Map(file, size, path: null);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Why <paramref name="size"/> cannot be IVSHMEM memory, or null when it can.</summary>
    public static string? CheckSize(long size) =>
        size < MinimumSize ? $"must be at least {MinimumSize} bytes (1 MiB), got {size}"
        : !BitOperations.IsPow2(size) ? $"must be a power of two (PCI BAR sizes are), got {size}"
        : null;

    /// <summary>Unmaps the memory and closes the file (the file itself stays for other users).</summary>
    public void Dispose()
    {
        _mapping.Dispose();
        Handle.Dispose();
    }

    private static void ValidateSize(long size)
    {
        if (CheckSize(size) is string problem)
        {
            throw new SharedMemoryException($"size {problem}");
        }
    }

    private static SharedMemoryFile Map(SafeFileHandle file, long size, string? path)
    {
        void* address = LibC.mmap(null, (size_t)(ulong)size, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, (int)file.DangerousGetHandle(), 0);
        if (address == LibC.MAP_FAILED)
        {
            throw new SharedMemoryException($"cannot map {size} bytes of {path ?? "the memfd"}: {ErrnoMessage()}");
        }

        return new SharedMemoryFile(file, new MappedMemoryHandle(address, size), size, path);
    }

    private static string ErrnoMessage()
    {
        int errno = LibC.errno;
        return $"{new System.ComponentModel.Win32Exception(errno).Message} (errno {errno})";
    }
}
