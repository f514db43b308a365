using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Vmm.Plugins.CrossDomain.Host;

/// <summary>
/// One forwarded futex (libkrun's FUTEX_NEW): the first 4 bytes of an exported /dev/shm file mapped MAP_SHARED, so
/// the host's futex key is the one the X server's xshmfence waits on, and a watcher thread that waits on the word
/// with bitset 1 and, on every change, counts one on <see cref="Signalled"/> (the context's worker turns that into
/// FUTEX_SIGNAL for the guest). A guest's FUTEX_SIGNAL wakes host waiters with bitset ~1, so it never wakes the
/// watcher: no ping-pong. The word is read and written with pread/pwrite, never through the mapping, so a guest that
/// truncates the file makes the futex calls fail with EFAULT instead of raising SIGBUS in the VMM.
/// </summary>
internal sealed unsafe partial class ForwardedFutex : IDisposable
{
    /// <summary>The watcher threads need little stack: one syscall loop.</summary>
    private const int WatcherStackSize = 256 * 1024;

    /// <summary>How long the watcher sleeps before it looks at the shutdown flag again if no wake comes.</summary>
    private static readonly TimeSpan s_watcherRecheck = TimeSpan.FromSeconds(2);

    private const int FutexWake = 1;
    private const int FutexWaitBitset = 9;
    private const int FutexWakeBitset = 10;
    private const uint WatcherBitset = 1;
    private const uint ForwardedWakeBitset = ~WatcherBitset;

    /// <summary>FUTEX_WAIT_BITSET's deadline is absolute, on CLOCK_MONOTONIC.</summary>
    private const int ClockMonotonic = 1;

    private readonly SafeFileHandle _file;
    private readonly nint _address;
    private readonly Thread _watcher;
    private volatile bool _shutdown;
    private int _disposed;

    private ForwardedFutex(uint id, SafeFileHandle file, nint address, SafeFileHandle signalled)
    {
        Id = id;
        _file = file;
        _address = address;
        Signalled = signalled;
        _watcher = new Thread(Watch, WatcherStackSize) { IsBackground = true, Name = $"futex {id:x8}" };
    }

    /// <summary>The guest's futex id (the X fence's XID in muvm).</summary>
    public uint Id { get; }

    /// <summary>The exported file; SEND passes a duplicate of it for an SHM identifier.</summary>
    public SafeFileHandle File => _file;

    /// <summary>An eventfd the watcher counts on after each change of the word; the worker polls and drains it.</summary>
    public SafeFileHandle Signalled { get; }

    /// <summary>Whether the watcher thread still runs (tests).</summary>
    public bool WatcherAlive => _watcher.IsAlive;

    /// <summary>
    /// Maps the word of <paramref name="file"/> (which it now owns) and starts the watcher. As libkrun's, the watcher
    /// signals once at start, so the guest always sees at least the latest wake with the value it had.
    /// </summary>
    /// <exception cref="IOException">The file is shorter than a futex word, or cannot be mapped.</exception>
    public static ForwardedFutex Start(uint id, SafeFileHandle file)
    {
        SafeFileHandle? signalled = null;
        try
        {
            stat status;
            if (LibC.fstat(Fd.Raw(file), &status) != 0 || status.st_size < sizeof(uint))
            {
                throw new IOException($"the exported file holds no 4-byte futex word");
            }

            void* address = LibC.mmap(null, sizeof(uint), LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, Fd.Raw(file), 0);
            if (address == LibC.MAP_FAILED)
            {
                throw Fd.Error("mmap");
            }

            int eventfd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
            if (eventfd < 0)
            {
                int errno = LibC.errno;
                LibC.munmap(address, sizeof(uint));
                throw Fd.Error("eventfd", errno);
            }

            signalled = Fd.Own(eventfd);
            var futex = new ForwardedFutex(id, file, (nint)address, signalled);
            futex._watcher.Start();
            return futex;
        }
        catch
        {
            signalled?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>The guest's FUTEX_SIGNAL: wakes every host waiter but the watcher.</summary>
    public void WakeHostWaiters()
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            Futex(_address, FutexWakeBitset, int.MaxValue, null, ForwardedWakeBitset);
        }
    }

    /// <summary>FUTEX_DESTROY: stop the watcher (flip the word and wake it, as libkrun does), join it, unmap.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _shutdown = true;
        // A watcher about to wait on the old value returns at once; one already waiting is woken.
        WriteWord(~(ReadWord() ?? 0));
        Futex(_address, FutexWake, int.MaxValue, null, 0);
        _watcher.Join();
        LibC.munmap((void*)_address, sizeof(uint));
        Signalled.Dispose();
        _file.Dispose();
    }

    private void Watch()
    {
        uint value = ReadWord() ?? 0;
        Count();
        while (!_shutdown)
        {
            // Bounded waits: a word the guest truncated away cannot be woken, and DESTROY must still join.
            timespec deadline;
            ClockGetTime(ClockMonotonic, &deadline);
            deadline.tv_sec += (long)s_watcherRecheck.TotalSeconds;
            if (Futex(_address, FutexWaitBitset, (int)value, &deadline, WatcherBitset) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.ETIMEDOUT || errno == LibC.EINTR)
                {
                    continue;
                }

                if (errno == LibC.EFAULT)
                {
                    // The file shrank under the mapping: nothing to watch until FUTEX_DESTROY.
                    return;
                }
            }

            // Read after the wake: the guest sees the value the word had at (or after) the wake it is told of.
            value = ReadWord() ?? 0;
            if (_shutdown)
            {
                return;
            }

            Count();
        }
    }

    private void Count()
    {
        ulong one = 1;
        LibC.write(Fd.Raw(Signalled), &one, sizeof(ulong));
    }

    private uint? ReadWord()
    {
        uint value;
        return LibC.pread(Fd.Raw(_file), &value, sizeof(uint), 0) == sizeof(uint) ? value : null;
    }

    private void WriteWord(uint value) => LibC.pwrite(Fd.Raw(_file), &value, sizeof(uint), 0);

    /// <summary>futex(2) without a second address; -1 and errno on failure.</summary>
    private static long Futex(nint address, int operation, int value, timespec* timeout, uint bitset)
        => Syscall(FutexSyscallNumber, address, operation, value, (nint)timeout, 0, bitset);

    private static long FutexSyscallNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        var other => throw new PlatformNotSupportedException($"futex forwarding is not built for {other}"),
    };

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, timespec* time);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint address, int operation, int value, nint timeout, nint address2, uint bitset);
}
