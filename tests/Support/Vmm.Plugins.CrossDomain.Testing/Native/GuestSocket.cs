using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Vmm.Plugins.CrossDomain.Testing.Native;

/// <summary>
/// An AF_UNIX stream socket on the guest side of the bridge: the listener X clients connect to and each accepted
/// client, with SCM_RIGHTS both ways (a .NET Socket cannot pass descriptors). Sending and receiving go through the
/// plugin's <see cref="Host.UnixStream"/>: socket code, not protocol, so sharing it mirrors no protocol bug.
/// </summary>
internal sealed unsafe class GuestSocket : IDisposable
{
    public const int MaxFds = Host.UnixStream.MaxFds;

    private readonly Host.UnixStream _stream;
    private readonly List<SafeFileHandle> _received = [];

    private GuestSocket(SafeFileHandle handle)
    {
        Handle = handle;
        _stream = Host.UnixStream.FromConnected(handle);
    }

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

    /// <summary>Sends all of <paramref name="data"/> with <paramref name="fds"/> on its first byte (the plugin's SCM_RIGHTS code).</summary>
    public void Send(ReadOnlySpan<byte> data, ReadOnlySpan<SafeFileHandle> fds) => _stream.Send(data, fds);

    /// <summary>
    /// Receives into <paramref name="buffer"/>; descriptors that came are added to <paramref name="fds"/>. 0 = closed, or
    /// reset by the peer: a client that exits with replies or events unread resets the connection, and an X server
    /// takes that as the client gone, not as a fault.
    /// </summary>
    public int Receive(Span<byte> buffer, Queue<SafeFileHandle> fds)
    {
        int count;
        try
        {
            count = _stream.Receive(buffer, _received);
        }
        catch (IOException e) when (e.HResult == Tmds.Linux.LibC.ECONNRESET)
        {
            return 0;
        }

        foreach (SafeFileHandle fd in _received)
        {
            fds.Enqueue(fd);
        }

        _received.Clear();
        return count;
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
