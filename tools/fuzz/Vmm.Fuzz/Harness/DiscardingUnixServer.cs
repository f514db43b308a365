using System.Net.Sockets;

namespace Vmm.Fuzz.Harness;

/// <summary>
/// A stand-in display server on a Unix socket path: accepts every connection and reads (and drops) what comes until
/// the peer closes, never answering. The code under test never blocks on a full socket and never sees a hang-up it
/// did not cause, so a harness input takes the same path each time. Runs on the thread pool, outside the
/// instrumented assemblies.
/// </summary>
public sealed class DiscardingUnixServer : IDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Listens on <paramref name="path"/> (which must not exist).</summary>
    public DiscardingUnixServer(string path)
    {
        Path = path;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen();
        _ = AcceptLoopAsync();
    }

    /// <summary>The socket path.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                Socket connection = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
                _ = DiscardAsync(connection);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Disposed.
        }
    }

    private static async Task DiscardAsync(Socket connection)
    {
        using (connection)
        {
            byte[] buffer = new byte[64 * 1024];
            try
            {
                while (await connection.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false) > 0)
                {
                }
            }
            catch (SocketException)
            {
                // The peer reset the connection.
            }
        }
    }
}
