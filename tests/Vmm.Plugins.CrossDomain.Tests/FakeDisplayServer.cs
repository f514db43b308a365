using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.CrossDomain.Host;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// A display server's socket for the tests that need to pass descriptors both ways (pipes, eventfds), which a real X
/// server does only in extensions: it listens on a path, accepts the context's connection, and sends and receives
/// bytes with SCM_RIGHTS through the plugin's <see cref="UnixStream"/>.
/// </summary>
internal sealed class FakeDisplayServer : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vmm-xdomain-").FullName;
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private Socket? _accepted;
    private UnixStream? _client;

    public FakeDisplayServer()
    {
        Path = System.IO.Path.Combine(_directory, "X0");
        _listener.Bind(new UnixDomainSocketEndPoint(Path));
        _listener.Listen(1);
    }

    /// <summary>The socket path: configure it as the channel's display.</summary>
    public string Path { get; }

    /// <summary>The connection the context made at INIT.</summary>
    public UnixStream Client
    {
        get
        {
            if (_client is null)
            {
                _accepted = _listener.Accept();
                _client = UnixStream.FromConnected(new SafeFileHandle(_accepted.Handle, ownsHandle: false));
            }

            return _client;
        }
    }

    /// <summary>Receives at least <paramref name="count"/> bytes and the descriptors that came with them.</summary>
    public (byte[] Data, List<SafeFileHandle> Fds) Receive(int count)
    {
        var data = new List<byte>();
        var fds = new List<SafeFileHandle>();
        byte[] buffer = new byte[4096];
        while (data.Count < count)
        {
            int received = Client.Receive(buffer, fds);
            Assert.True(received > 0, "the context closed the channel");
            data.AddRange(buffer.AsSpan(0, received));
        }

        return ([.. data], fds);
    }

    public void Dispose()
    {
        _client?.Dispose();
        _accepted?.Dispose();
        _listener.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
