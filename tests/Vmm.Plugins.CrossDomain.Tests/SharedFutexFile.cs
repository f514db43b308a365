using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Files;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// The host side of an xshmfence for the tests: a file in /dev/shm (what muvm's guest shares through virtio-fs DAX),
/// mapped here MAP_SHARED so this process's futex calls use the key the plugin's watcher uses, and offered to the
/// context as the virtio-fs export (<see cref="FileSystemId"/>, <see cref="Handle"/>) through a test export table.
/// </summary>
internal sealed unsafe partial class SharedFutexFile : IFileExportTable, IDisposable
{
    public const ulong FileSystemId = 3;
    public const ulong Handle = 41;

    private const int FutexWait = 0;
    private const int FutexWake = 1;
    private const int ProtReadWrite = 3;
    private const int MapShared = 1;

    private readonly nint _word;

    /// <summary>A new file of <paramref name="size"/> bytes in <paramref name="directory"/> (default /dev/shm).</summary>
    public SharedFutexFile(int size = 4096, string? directory = null)
    {
        directory ??= Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        Path = System.IO.Path.Combine(directory, $"vmm-xshmfence-{Guid.NewGuid():N}");
        using (SafeFileHandle file = File.OpenHandle(Path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(file, size);
            _word = size < sizeof(uint) ? 0 : Mmap(0, sizeof(uint), ProtReadWrite, MapShared, file, 0);
            Assert.NotEqual(-1, _word);
        }
    }

    public string Path { get; }

    /// <summary>How many exports the context opened.</summary>
    public int Opened { get; private set; }

    /// <summary>The futex word, through this process's own mapping.</summary>
    public uint Word
    {
        get => (uint)Volatile.Read(ref *(int*)_word);
        set => Volatile.Write(ref *(int*)_word, (int)value);
    }

    /// <inheritdoc />
    public SafeFileHandle? OpenExport(ulong fileSystemId, ulong handle)
    {
        if ((fileSystemId, handle) != (FileSystemId, Handle))
        {
            return null;
        }

        Opened++;
        return File.OpenHandle(Path, FileMode.Open, FileAccess.ReadWrite);
    }

    /// <summary>
    /// FUTEX_WAIT (every bitset, as xshmfence's waiter) while the word is <paramref name="expected"/>; true when a
    /// wake came, false after <paramref name="timeout"/> or when the word was not <paramref name="expected"/>.
    /// </summary>
    public bool WaitForWake(uint expected, TimeSpan timeout)
    {
        var relative = new Timespec { Seconds = (long)timeout.TotalSeconds, Nanoseconds = timeout.Milliseconds * 1_000_000L };
        return Futex(_word, FutexWait, (int)expected, &relative, 0) == 0;
    }

    /// <summary>FUTEX_WAKE of every waiter on the word (every bitset), as the X server's xshmfence_trigger does.</summary>
    public int Wake() => (int)Futex(_word, FutexWake, int.MaxValue, null, 0);

    public void Dispose()
    {
        if (_word != 0)
        {
            Munmap(_word, sizeof(uint));
        }

        File.Delete(Path);
    }

    private static long Futex(nint address, int operation, int value, Timespec* timeout, uint bitset)
        => Syscall(RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 98 : 202, address, operation, value, (nint)timeout, 0, bitset);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, SafeFileHandle file, long offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint address, int operation, int value, nint timeout, nint address2, uint bitset);
}
