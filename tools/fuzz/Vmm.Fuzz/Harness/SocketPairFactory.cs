using System.Net;
using System.Net.Sockets;

namespace Vmm.Fuzz.Harness;

/// <summary>
/// Connected stream socket pairs through one listener (.NET has no socketpair), made per input: Unix sockets, or
/// loopback TCP for code that sets TCP options (the VNC server).
/// </summary>
public sealed class SocketPairFactory : IDisposable
{
    private readonly string? _path;
    private readonly Socket _listener;
    private readonly EndPoint _endPoint;

    /// <summary>Binds the listener on a fresh temporary Unix path, or on a loopback TCP port when <paramref name="tcp"/>.</summary>
    public SocketPairFactory(bool tcp = false)
    {
        if (tcp)
        {
            _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _endPoint = _listener.LocalEndPoint!;
        }
        else
        {
            _path = Path.Combine(Path.GetTempPath(), $"vmm-fuzz-{Guid.NewGuid():N}.sock");
            _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _endPoint = new UnixDomainSocketEndPoint(_path);
            _listener.Bind(_endPoint);
        }

        _listener.Listen(4);
    }

    /// <summary>A new connected pair: the peer (the fuzzer's side) and the side the code under test serves.</summary>
    public (Socket Peer, Socket Served) Create()
    {
        var peer = new Socket(_listener.AddressFamily, SocketType.Stream, _path is null ? ProtocolType.Tcp : ProtocolType.Unspecified);
        try
        {
            peer.Connect(_endPoint);
            return (peer, _listener.Accept());
        }
        catch
        {
            peer.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _listener.Dispose();
        if (_path is not null)
        {
            File.Delete(_path);
        }
    }
}
