using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Vmm.Plugins.CrossDomain.Host;

/// <summary>Small helpers over file descriptors held as <see cref="SafeFileHandle"/>s.</summary>
internal static unsafe class Fd
{
    /// <summary>Takes ownership of a raw descriptor a syscall returned.</summary>
    public static SafeFileHandle Own(int fd) => new(fd, ownsHandle: true);

    /// <summary>The raw descriptor, for a syscall made while <paramref name="handle"/> is alive.</summary>
    public static int Raw(SafeHandle handle) => (int)handle.DangerousGetHandle();

    /// <summary>A second descriptor for the same open file (close-on-exec).</summary>
    public static SafeFileHandle Duplicate(SafeFileHandle handle)
    {
        int fd = LibC.fcntl(Raw(handle), LibC.F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Error("dup");
        }

        return Own(fd);
    }

    /// <summary>A pipe (read end, write end), both close-on-exec.</summary>
    public static (SafeFileHandle Read, SafeFileHandle Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (LibC.pipe2(fds, LibC.O_CLOEXEC) != 0)
        {
            throw Error("pipe2");
        }

        return (Own(fds[0]), Own(fds[1]));
    }

    /// <summary>An anonymous memfd of <paramref name="size"/> bytes.</summary>
    public static SafeFileHandle CreateMemfd(string name, long size)
    {
        byte[] nameBytes = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        int fd;
        fixed (byte* namePointer = nameBytes)
        {
            fd = LibC.memfd_create(namePointer, LibC.MFD_CLOEXEC);
        }

        if (fd < 0)
        {
            throw Error("memfd_create");
        }

        SafeFileHandle handle = Own(fd);
        if (LibC.ftruncate(fd, size) != 0)
        {
            handle.Dispose();
            throw Error("ftruncate");
        }

        return handle;
    }

    /// <summary>The file's size when it is seekable (a memfd, a dma-buf, a file), else null (a pipe, an eventfd).</summary>
    public static long? SeekableSize(SafeFileHandle handle)
    {
        long end = LibC.lseek(Raw(handle), 0, LibC.SEEK_END);
        if (end < 0)
        {
            return null;
        }

        LibC.lseek(Raw(handle), 0, LibC.SEEK_SET);
        return end;
    }

    /// <summary>Whether the descriptor was opened write-only (the write end of a pipe).</summary>
    public static bool IsWriteOnly(SafeFileHandle handle)
    {
        int flags = LibC.fcntl(Raw(handle), LibC.F_GETFL);
        return flags >= 0 && (flags & LibC.O_ACCMODE) == LibC.O_WRONLY;
    }

    /// <summary>What /proc/self/fd says the descriptor is (for example <c>anon_inode:[eventfd]</c>).</summary>
    public static string Describe(SafeFileHandle handle)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{Raw(handle)}").LinkTarget ?? string.Empty;
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    /// <summary>Reads at most <paramref name="buffer"/>'s length; returns the count, 0 at end of file, -1 when it would block.</summary>
    public static int Read(SafeFileHandle handle, Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            while (true)
            {
                long count = LibC.read(Raw(handle), pointer, buffer.Length);
                if (count >= 0)
                {
                    return (int)count;
                }

                int errno = LibC.errno;
                if (errno == LibC.EINTR)
                {
                    continue;
                }

                if (errno == LibC.EAGAIN)
                {
                    return -1;
                }

                throw Error("read", errno);
            }
        }
    }

    /// <summary>Writes all of <paramref name="data"/>.</summary>
    public static void WriteAll(SafeFileHandle handle, ReadOnlySpan<byte> data)
    {
        fixed (byte* pointer = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                long count = LibC.write(Raw(handle), pointer + done, data.Length - done);
                if (count < 0)
                {
                    int errno = LibC.errno;
                    if (errno == LibC.EINTR)
                    {
                        continue;
                    }

                    throw Error("write", errno);
                }

                done += (int)count;
            }
        }
    }

    /// <summary>An <see cref="IOException"/> for the failed call, from errno.</summary>
    public static IOException Error(string call, int? errno = null)
    {
        int code = errno ?? LibC.errno;
        return new IOException($"{call} failed: {Marshal.GetPInvokeErrorMessage(code)} (errno {code})", code);
    }
}
