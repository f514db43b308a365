using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Vmm.Plugins.CrossDomain.Testing.Native;

/// <summary>
/// An AF_UNIX stream socket on the guest side of the bridge: the listener X clients connect to and each accepted
/// client, with SCM_RIGHTS both ways (a .NET Socket cannot pass descriptors).
/// </summary>
internal sealed unsafe class GuestSocket : IDisposable
{
    public const int MaxFds = 28;
    private const int CmsgHeaderSize = 16;

    private GuestSocket(SafeFileHandle handle) => Handle = handle;

    public SafeFileHandle Handle { get; }

    /// <summary>Binds and listens on <paramref name="address"/>: a path (an old socket file there is removed) or '@' and an abstract name.</summary>
    /// <exception cref="IOException">The address is taken or cannot be bound.</exception>
    public static GuestSocket Listen(string address)
    {
        bool isAbstract = address.StartsWith('@');
        if (!isAbstract && File.Exists(address))
        {
            File.Delete(address);
        }

        (sockaddr_un sockaddr, int length) = Address(address);
        int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw GuestFd.Error("socket");
        }

        var socket = new GuestSocket(GuestFd.Own(fd));
        if (LibC.bind(fd, (sockaddr*)&sockaddr, length) != 0 || LibC.listen(fd, 64) != 0)
        {
            int errno = LibC.errno;
            socket.Dispose();
            throw GuestFd.Error($"bind/listen on '{address}'", errno);
        }

        return socket;
    }

    /// <summary>Connects to <paramref name="address"/> (a path or '@' and an abstract name).</summary>
    public static GuestSocket Connect(string address)
    {
        (sockaddr_un sockaddr, int length) = Address(address);
        int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw GuestFd.Error("socket");
        }

        var socket = new GuestSocket(GuestFd.Own(fd));
        if (LibC.connect(fd, (sockaddr*)&sockaddr, length) != 0)
        {
            int errno = LibC.errno;
            socket.Dispose();
            throw GuestFd.Error($"connect to '{address}'", errno);
        }

        return socket;
    }

    /// <summary>Accepts one client; null once the listener was shut down.</summary>
    public GuestSocket? Accept()
    {
        while (true)
        {
            int fd = LibC.accept4(GuestFd.Raw(Handle), null, null, LibC.SOCK_CLOEXEC);
            if (fd >= 0)
            {
                return new GuestSocket(GuestFd.Own(fd));
            }

            int errno = LibC.errno;
            if (errno != LibC.EINTR && errno != LibC.ECONNABORTED)
            {
                return null;
            }
        }
    }

    /// <summary>Sends all of <paramref name="data"/> with <paramref name="fds"/> on its first byte.</summary>
    public void Send(ReadOnlySpan<byte> data, ReadOnlySpan<SafeHandle> fds)
    {
        byte* control = stackalloc byte[CmsgHeaderSize + (MaxFds * sizeof(int)) + 8];
        fixed (byte* pointer = data)
        {
            int done = 0;
            do
            {
                var vector = new iovec { iov_base = pointer + done, iov_len = data.Length - done };
                var message = new msghdr { msg_iov = &vector, msg_iovlen = 1 };
                if (done == 0 && fds.Length > 0)
                {
                    int controlLength = CmsgHeaderSize + (((fds.Length * sizeof(int)) + 7) & ~7);
                    new Span<byte>(control, controlLength).Clear();
                    var header = (cmsghdr*)control;
                    header->cmsg_len = CmsgHeaderSize + (fds.Length * sizeof(int));
                    header->cmsg_level = LibC.SOL_SOCKET;
                    header->cmsg_type = LibC.SCM_RIGHTS;
                    for (int i = 0; i < fds.Length; i++)
                    {
                        ((int*)(control + CmsgHeaderSize))[i] = GuestFd.Raw(fds[i]);
                    }

                    message.msg_control = control;
                    message.msg_controllen = controlLength;
                }

                long sent = LibC.sendmsg(GuestFd.Raw(Handle), &message, LibC.MSG_NOSIGNAL);
                if (sent < 0)
                {
                    int errno = LibC.errno;
                    if (errno == LibC.EINTR)
                    {
                        continue;
                    }

                    throw GuestFd.Error("sendmsg", errno);
                }

                done += (int)sent;
            }
            while (done < data.Length);
        }
    }

    /// <summary>Receives into <paramref name="buffer"/>; descriptors that came are added to <paramref name="fds"/>. 0 = closed (or reset by the peer).</summary>
    public int Receive(Span<byte> buffer, Queue<SafeFileHandle> fds)
    {
        int controlLength = CmsgHeaderSize + (MaxFds * sizeof(int));
        byte* control = stackalloc byte[controlLength];
        fixed (byte* pointer = buffer)
        {
            while (true)
            {
                var vector = new iovec { iov_base = pointer, iov_len = buffer.Length };
                var message = new msghdr { msg_iov = &vector, msg_iovlen = 1, msg_control = control, msg_controllen = controlLength };
                long received = LibC.recvmsg(GuestFd.Raw(Handle), &message, LibC.MSG_CMSG_CLOEXEC);
                if (received < 0)
                {
                    int errno = LibC.errno;
                    if (errno == LibC.EINTR)
                    {
                        continue;
                    }

                    // A client that exits with replies or events still unread resets the connection: it is gone,
                    // as an X server takes it, not a fault.
                    if (errno == LibC.ECONNRESET)
                    {
                        return 0;
                    }

                    throw GuestFd.Error("recvmsg", errno);
                }

                for (cmsghdr* header = LibC.CMSG_FIRSTHDR(&message); header != null; header = LibC.CMSG_NXTHDR(&message, header))
                {
                    if (header->cmsg_level == LibC.SOL_SOCKET && header->cmsg_type == LibC.SCM_RIGHTS)
                    {
                        int count = ((int)(uint)header->cmsg_len - CmsgHeaderSize) / sizeof(int);
                        for (int i = 0; i < count; i++)
                        {
                            fds.Enqueue(GuestFd.Own(((int*)LibC.CMSG_DATA(header))[i]));
                        }
                    }
                }

                return (int)received;
            }
        }
    }

    /// <summary>Ends both directions (wakes a thread blocked in accept, recv or send on it).</summary>
    public void Shutdown()
    {
        // A reference keeps the number from being closed (and reused by another open) under the call.
        bool added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
            LibC.shutdown(GuestFd.Raw(Handle), LibC.SHUT_RDWR);
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }
        finally
        {
            if (added)
            {
                Handle.DangerousRelease();
            }
        }
    }

    public void Dispose() => Handle.Dispose();

    private static (sockaddr_un Address, int Length) Address(string address)
    {
        bool isAbstract = address.StartsWith('@');
        byte[] name = Encoding.UTF8.GetBytes(isAbstract ? address[1..] : address);
        var sockaddr = default(sockaddr_un);
        int offset = isAbstract ? 1 : 0;
        if (name.Length + offset >= sizeof(sockaddr_un) - sizeof(ushort))
        {
            throw new IOException($"socket address '{address}' is too long");
        }

        sockaddr.sun_family = (ushort)LibC.AF_UNIX;
        name.CopyTo(new Span<byte>((byte*)&sockaddr + sizeof(ushort) + offset, name.Length));
        return (sockaddr, sizeof(ushort) + offset + name.Length + (isAbstract ? 0 : 1));
    }
}
