using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Vmm.Plugins.VirtioVsock.Host;

/// <summary>
/// The device's Unix socket (Firecracker's hybrid vsock): a host process connects, writes <c>CONNECT &lt;port&gt;\n</c>
/// and, once the guest accepts, reads <c>OK &lt;hostport&gt;\n</c>; after that the socket is the stream. A client that
/// sends anything else, or nothing within <see cref="HandshakeTimeout"/>, is disconnected.
/// </summary>
internal sealed class HybridListener : IDisposable
{
    /// <summary>How long a client may take to send its CONNECT line.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(5);

    private const int MaxLineLength = 32;
    private readonly Socket _listener;
    private readonly Action<Socket, uint> _onConnect;
    private readonly Action<string> _onRejected;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Binds <paramref name="path"/> (a stale socket file there is replaced) and starts accepting.</summary>
    public HybridListener(string path, Action<Socket, uint> onConnect, Action<string> onRejected)
    {
        Path = path;
        _onConnect = onConnect;
        _onRejected = onRejected;
        RemoveStaleSocket(path);

        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(64);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }

        _ = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The socket's path.</summary>
    public string Path { get; }

    /// <summary>Stops accepting and removes the socket file.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Removes a socket file nobody listens on any more; one that answers belongs to a running VM.</summary>
    private static void RemoveStaleSocket(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new IOException($"The vsock socket '{path}' is in use by another process.");
            }
            catch (SocketException)
            {
            }
        }

        File.Delete(path);
    }

    /// <summary>Parses <c>CONNECT &lt;port&gt;</c> (the line without its newline).</summary>
    internal static bool TryParseConnect(string line, out uint port)
    {
        port = 0;
        return line.StartsWith("CONNECT ", StringComparison.Ordinal)
            && uint.TryParse(line.AsSpan(8), NumberStyles.None, CultureInfo.InvariantCulture, out port);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => HandshakeAsync(client));
        }
    }

    private async Task HandshakeAsync(Socket client)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(HandshakeTimeout);
        byte[] line = new byte[MaxLineLength];
        int length = 0;
        try
        {
            // Byte by byte: nothing after the newline may be consumed, it belongs to the stream.
            while (true)
            {
                if (length == line.Length)
                {
                    throw new InvalidDataException("no newline within 32 bytes");
                }

                int n = await client.ReceiveAsync(line.AsMemory(length, 1), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new InvalidDataException("closed before the CONNECT line");
                }

                if (line[length] == (byte)'\n')
                {
                    break;
                }

                length++;
            }

            string text = Encoding.ASCII.GetString(line, 0, length);
            if (!TryParseConnect(text, out uint port))
            {
                throw new InvalidDataException($"expected 'CONNECT <port>', got '{text}'");
            }

            _onConnect(client, port);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or InvalidDataException or ObjectDisposedException)
        {
            _onRejected(ex is OperationCanceledException ? "no CONNECT line in time" : ex.Message);
            client.Dispose();
        }
    }
}
