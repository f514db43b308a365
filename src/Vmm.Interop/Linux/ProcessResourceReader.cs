using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vmm.Interop;

/// <summary>
/// Lists this process's open file descriptors (<c>/proc/self/fd</c>) and threads (<c>/proc/self/task</c>) into
/// caller-owned arrays, allocating nothing: the two directories stay open and are re-read with getdents64 into one
/// buffer. Not thread-safe: one reader per thread that samples.
/// </summary>
internal sealed class ProcessResourceReader : IDisposable
{
    private readonly SafeFileHandle _fds;
    private readonly SafeFileHandle _tasks;
    private readonly byte[] _buffer = new byte[16384];

    /// <summary>Opens the two directories (two descriptors, held until disposed).</summary>
    public ProcessResourceReader()
    {
        const int flags = global::Interop.O_RDONLY | global::Interop.O_DIRECTORY | global::Interop.O_CLOEXEC;
        _fds = global::Interop.CheckIo(global::Interop.OpenDirectory("/proc/self/fd", flags), "open(/proc/self/fd)");
        try
        {
            _tasks = global::Interop.CheckIo(global::Interop.OpenDirectory("/proc/self/task", flags), "open(/proc/self/task)");
        }
        catch
        {
            _fds.Dispose();
            throw;
        }
    }

    /// <summary>The two descriptors the reader itself holds (they are in every list it returns).</summary>
    public (int Fds, int Tasks) OwnDescriptors => ((int)_fds.DangerousGetHandle(), (int)_tasks.DangerousGetHandle());

    /// <summary>
    /// Writes the open descriptors, ascending, into <paramref name="into"/> and returns how many there are; when that
    /// is more than <paramref name="into"/> holds, only the first ones are written (call again with a larger array).
    /// </summary>
    public int ReadOpenFds(int[] into) => ReadNumbers(_fds, into, "getdents64(/proc/self/fd)");

    /// <summary>The thread ids of this process, ascending, as <see cref="ReadOpenFds"/> returns descriptors.</summary>
    public int ReadThreadIds(int[] into) => ReadNumbers(_tasks, into, "getdents64(/proc/self/task)");

    /// <summary>
    /// One number that changes when descriptors are opened or closed, in one statx call: since Linux 6.2 the size of
    /// /proc/self/fd is the number of open descriptors. 0 on older kernels (see <see cref="CountsAreCheap"/>).
    /// </summary>
    public long FdCount() => StatxField(_fds, global::Interop.STATX_SIZE, global::Interop.StatxSizeOffset, eightBytes: true);

    /// <summary>The link count of /proc/self/task: the number of threads plus two, in one statx call.</summary>
    public long ThreadCount() => StatxField(_tasks, global::Interop.STATX_NLINK, global::Interop.StatxNlinkOffset, eightBytes: false);

    /// <summary>Whether <see cref="FdCount"/> counts (Linux 6.2 and later); when not, only the listings can tell.</summary>
    public bool CountsAreCheap => FdCount() > 0; // the reader's own two descriptors are open

    /// <summary>The (device, inode) of what descriptor <paramref name="fd"/> refers to now; false when it is not open.</summary>
    public static unsafe bool TryGetIdentity(int fd, out FileIdentity identity)
    {
        byte* statx = stackalloc byte[global::Interop.StatxSize];
        byte empty = 0;
        if (global::Interop.Statx(fd, &empty, global::Interop.AT_EMPTY_PATH, global::Interop.STATX_INO, statx) != 0)
        {
            identity = default;
            return false;
        }

        var bytes = new ReadOnlySpan<byte>(statx, global::Interop.StatxSize);
        identity = new FileIdentity(
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[global::Interop.StatxDevMajorOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[global::Interop.StatxDevMinorOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[global::Interop.StatxInoOffset..]));
        return true;
    }

    private static unsafe long StatxField(SafeFileHandle directory, uint mask, int offset, bool eightBytes)
    {
        byte* statx = stackalloc byte[global::Interop.StatxSize];
        byte empty = 0;
        bool added = false;
        try
        {
            directory.DangerousAddRef(ref added);
            int fd = (int)directory.DangerousGetHandle();
            global::Interop.CheckIo(global::Interop.Statx(fd, &empty, global::Interop.AT_EMPTY_PATH, mask, statx), "statx(/proc/self)");
        }
        finally
        {
            if (added)
            {
                directory.DangerousRelease();
            }
        }

        var bytes = new ReadOnlySpan<byte>(statx + offset, 8);
        return eightBytes ? (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    /// <summary>
    /// Whether thread <paramref name="tid"/> is one of the runtime's shared threads, by the name it gives them
    /// (<c>.NET TP Worker</c>/<c>Wait</c>/<c>Gate</c>, <c>.NET Timer</c>, <c>.NET Sockets</c>, <c>.NET SigHandler</c>,
    /// <c>.NET Finalizer</c>): it starts them for whoever queues work first, so one that appears during a call is not
    /// that call's to keep. Threads a device worker's call starts are not among them (an unnamed thread takes its
    /// creator's name: the worker's), nor are long-running tasks.
    /// False for a thread that is gone. Allocates nothing.
    /// </summary>
    public unsafe bool IsRuntimeThread(int tid)
    {
        byte* path = stackalloc byte[24]; // "<tid>/comm\0": a tid has at most 10 digits
        var pathSpan = new Span<byte>(path, 24);
        if (!tid.TryFormat(pathSpan, out int digits, default, System.Globalization.CultureInfo.InvariantCulture))
        {
            return false;
        }

        "/comm\0"u8.CopyTo(pathSpan[digits..]);
        int fd = global::Interop.OpenAtRaw(_tasks, path, global::Interop.O_RDONLY | global::Interop.O_CLOEXEC);
        if (fd < 0)
        {
            return false;
        }

        byte* name = stackalloc byte[16]; // TASK_COMM_LEN
        nint read = global::Interop.ReadRaw(fd, name, 16);
        _ = global::Interop.CloseRaw(fd);
        var comm = new ReadOnlySpan<byte>(name, (int)Math.Max(read, 0));
        return comm.StartsWith(".NET TP "u8) || comm.StartsWith(".NET Timer"u8) || comm.StartsWith(".NET Sockets"u8)
            || comm.StartsWith(".NET SigHandler"u8) || comm.StartsWith(".NET Finalizer"u8);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _fds.Dispose();
        _tasks.Dispose();
    }

    private unsafe int ReadNumbers(SafeFileHandle directory, int[] into, string operation)
    {
        global::Interop.CheckIo(global::Interop.Lseek(directory, 0, global::Interop.SEEK_SET), operation);
        int count = 0;
        fixed (byte* buffer = _buffer)
        {
            while (true)
            {
                nint read = global::Interop.GetDents64(directory, buffer, (nuint)_buffer.Length);
                if (read < 0)
                {
                    global::Interop.ThrowForLastError(operation);
                }

                if (read == 0)
                {
                    break;
                }

                for (int offset = 0; offset < read;)
                {
                    var record = new ReadOnlySpan<byte>(buffer + offset, (int)read - offset);
                    int length = BinaryPrimitives.ReadUInt16LittleEndian(record[global::Interop.Dirent64RecordLengthOffset..]);
                    if (ParseNumber(record[global::Interop.Dirent64NameOffset..]) is int number and >= 0)
                    {
                        if (count < into.Length)
                        {
                            into[count] = number;
                        }

                        count++;
                    }

                    offset += length;
                }
            }
        }

        Array.Sort(into, 0, Math.Min(count, into.Length));
        return count;
    }

    // "." and ".." are not numbers: -1.
    private static int ParseNumber(ReadOnlySpan<byte> name)
    {
        int value = 0;
        int i = 0;
        for (; i < name.Length && name[i] != 0; i++)
        {
            int digit = name[i] - '0';
            if ((uint)digit > 9)
            {
                return -1;
            }

            value = (value * 10) + digit;
        }

        return i == 0 ? -1 : value;
    }
}

/// <summary>What a descriptor refers to: a file is the same file while device and inode are.</summary>
/// <param name="DevMajor">The device's major number.</param>
/// <param name="DevMinor">The device's minor number.</param>
/// <param name="Inode">The inode number.</param>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct FileIdentity(uint DevMajor, uint DevMinor, ulong Inode);
