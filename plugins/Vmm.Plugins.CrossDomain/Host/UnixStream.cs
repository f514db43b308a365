using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Vmm.Plugins.CrossDomain.Host;

/// <summary>
/// A connected AF_UNIX stream socket that carries file descriptors (SCM_RIGHTS) with its bytes, which a .NET
/// <see cref="System.Net.Sockets.Socket"/> cannot do.
/// </summary>
internal sealed unsafe class UnixStream : IDisposable
{
    /// <summary>The most descriptors one message carries (CROSS_DOMAIN_MAX_IDENTIFIERS).</summary>
    public const int MaxFds = Protocol.CrossDomainLayout.MaxIdentifiers;

    private const int CmsgHeaderSize = 16;

    private UnixStream(SafeFileHandle socket) => Handle = socket;

    /// <summary>The socket; polled by the context's worker.</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>Connects to <paramref name="address"/>: a path, or an abstract name when it starts with '@'.</summary>
    /// <exception cref="IOException">Nothing listens there.</exception>
    public static UnixStream Connect(string address)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        bool isAbstract = address[0] == '@';
        byte[] name = Encoding.UTF8.GetBytes(isAbstract ? address[1..] : address);
        var sockaddr = default(sockaddr_un);
        int pathCapacity = sizeof(sockaddr_un) - sizeof(ushort);
        int offset = isAbstract ? 1 : 0;
        if (name.Length + offset >= pathCapacity)
        {
            throw new IOException($"socket address '{address}' is longer than {pathCapacity - 1 - offset} bytes");
        }

        sockaddr.sun_family = (ushort)LibC.AF_UNIX;
        byte* path = (byte*)&sockaddr + sizeof(ushort);
        name.CopyTo(new Span<byte>(path + offset, name.Length));
        int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Fd.Error("socket");
        }

        SafeFileHandle socket = Fd.Own(fd);
        // Abstract names are not NUL-terminated: the length says where they end.
        int length = sizeof(ushort) + offset + name.Length + (isAbstract ? 0 : 1);
        while (LibC.connect(fd, (sockaddr*)&sockaddr, length) != 0)
        {
            int errno = LibC.errno;
            if (errno != LibC.EINTR)
            {
                socket.Dispose();
                throw Fd.Error($"connect to '{address}'", errno);
            }
        }

        return new UnixStream(socket);
    }

    /// <summary>Takes a socket that is already connected (the accepted end of a display server, in tests).</summary>
    public static UnixStream FromConnected(SafeFileHandle socket) => new(socket);

    /// <summary>Sends all of <paramref name="data"/>, with <paramref name="fds"/> attached to its first byte.</summary>
    public void Send(ReadOnlySpan<byte> data, ReadOnlySpan<SafeFileHandle> fds)
    {
        if (fds.Length > MaxFds)
        {
            throw new ArgumentOutOfRangeException(nameof(fds), $"at most {MaxFds} descriptors per message");
        }

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
                    int controlLength = CmsgSpace(fds.Length * sizeof(int));
                    new Span<byte>(control, controlLength).Clear();
                    var header = (cmsghdr*)control;
                    header->cmsg_len = CmsgHeaderSize + (fds.Length * sizeof(int));
                    header->cmsg_level = LibC.SOL_SOCKET;
                    header->cmsg_type = LibC.SCM_RIGHTS;
                    int* slots = (int*)(control + CmsgHeaderSize);
                    for (int i = 0; i < fds.Length; i++)
                    {
                        slots[i] = Fd.Raw(fds[i]);
                    }

                    message.msg_control = control;
                    message.msg_controllen = controlLength;
                }

                long sent = LibC.sendmsg(Fd.Raw(Handle), &message, LibC.MSG_NOSIGNAL);
                if (sent < 0)
                {
                    int errno = LibC.errno;
                    if (errno == LibC.EINTR)
                    {
                        continue;
                    }

                    throw Fd.Error("sendmsg", errno);
                }

                done += (int)sent;
            }
            while (done < data.Length);
        }
    }

    /// <summary>
    /// Receives at most <paramref name="buffer"/>'s length and the descriptors that came with it (close-on-exec);
    /// returns the byte count, 0 when the peer closed.
    /// </summary>
    public int Receive(Span<byte> buffer, List<SafeFileHandle> fds)
    {
        ArgumentNullException.ThrowIfNull(fds);
        int controlLength = CmsgSpace(MaxFds * sizeof(int));
        byte* control = stackalloc byte[controlLength];
        fixed (byte* pointer = buffer)
        {
            while (true)
            {
                var vector = new iovec { iov_base = pointer, iov_len = buffer.Length };
                var message = new msghdr { msg_iov = &vector, msg_iovlen = 1, msg_control = control, msg_controllen = controlLength };
                long received = LibC.recvmsg(Fd.Raw(Handle), &message, LibC.MSG_CMSG_CLOEXEC);
                if (received < 0)
                {
                    int errno = LibC.errno;
                    if (errno == LibC.EINTR)
                    {
                        continue;
                    }

                    throw Fd.Error("recvmsg", errno);
                }

                for (cmsghdr* header = LibC.CMSG_FIRSTHDR(&message); header != null; header = LibC.CMSG_NXTHDR(&message, header))
                {
                    if (header->cmsg_level != LibC.SOL_SOCKET || header->cmsg_type != LibC.SCM_RIGHTS)
                    {
                        continue;
                    }

                    int count = ((int)(uint)header->cmsg_len - CmsgHeaderSize) / sizeof(int);
                    int* slots = (int*)LibC.CMSG_DATA(header);
                    for (int i = 0; i < count; i++)
                    {
                        fds.Add(Fd.Own(slots[i]));
                    }
                }

                return (int)received;
            }
        }
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose() => Handle.Dispose();

    private static int CmsgSpace(int dataLength) => CmsgHeaderSize + ((dataLength + 7) & ~7);
}
