using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Vmm.Cli.Exec;

/// <summary>
/// Opens a stream to a guest vsock port through the virtio-vsock device's hybrid Unix socket: <c>CONNECT port</c>,
/// <c>OK hostport</c>; what follows on the socket is the vsock stream (for <c>vmm exec</c>, a MultiplexingStream).
/// </summary>
internal static class ExecConnection
{
    private const int MaxHandshakeLine = 64;

    /// <summary>
    /// Connects to guest port <paramref name="port"/> through <paramref name="uds"/>. The guest answers within
    /// <paramref name="timeout"/>, or the connection counts as refused.
    /// </summary>
    /// <exception cref="ExecException">No socket, a refusal, no answer or a wrong answer.</exception>
    public static async Task<NetworkStream> ConnectAsync(string uds, uint port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(uds), deadline.Token).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new ExecException($"cannot connect to the vsock device's socket '{uds}': {ex.Message}", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT {port.ToString(CultureInfo.InvariantCulture)}\n"), deadline.Token).ConfigureAwait(false);
            string? line;
            try
            {
                line = await ReadLineAsync(stream, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ExecException($"the guest did not answer a connection to vsock port {port} within {timeout.TotalSeconds:0} s");
            }
            catch (IOException ex)
            {
                throw new ExecException($"the connection to vsock port {port} failed: {ex.Message}", ex);
            }

            if (line is null)
            {
                throw new ExecException($"the guest refused vsock port {port}: is vmm-exec-agent running in the guest?");
            }

            if (!line.StartsWith("OK ", StringComparison.Ordinal))
            {
                throw new ExecException($"the vsock device answered '{line}' instead of 'OK <port>'");
            }

            return stream;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Reads the handshake line byte by byte: what follows it is the guest's stream.</summary>
    private static async Task<string?> ReadLineAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        byte[] one = new byte[1];
        while (line.Length < MaxHandshakeLine)
        {
            if (await stream.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0)
            {
                return null;
            }

            if (one[0] == '\n')
            {
                return line.ToString();
            }

            line.Append((char)one[0]);
        }

        throw new ExecException("the vsock device's handshake line is too long");
    }
}
