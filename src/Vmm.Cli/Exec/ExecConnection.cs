using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Vmm.Cli.Exec;

/// <summary>
/// One connection to the guest agent through the virtio-vsock device's hybrid Unix socket: <c>CONNECT port</c>,
/// <c>OK hostport</c>, then exec frames. Writes are serialized (stdin, signals and resizes share the stream); one
/// reader at a time.
/// </summary>
internal sealed class ExecConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly byte[] _readHeader = new byte[ExecFrameHeader.Size];
    private readonly byte[] _writeHeader = new byte[ExecFrameHeader.Size];

    private ExecConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>
    /// Connects to guest port <paramref name="port"/> through <paramref name="uds"/>. The guest answers within
    /// <paramref name="timeout"/>, or the connection counts as refused.
    /// </summary>
    public static async Task<ExecConnection> ConnectAsync(string uds, uint port, TimeSpan timeout, CancellationToken cancellationToken)
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

        var connection = new ExecConnection(socket);
        try
        {
            await connection._stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT {port.ToString(CultureInfo.InvariantCulture)}\n"), deadline.Token).ConfigureAwait(false);
            string? line;
            try
            {
                line = await connection.ReadLineAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ExecException($"the guest did not answer a connection to vsock port {port} within {timeout.TotalSeconds:0} s");
            }

            if (line is null)
            {
                throw new ExecException($"the guest refused vsock port {port}: is vmm-exec-agent running in the guest?");
            }

            if (!line.StartsWith("OK ", StringComparison.Ordinal))
            {
                throw new ExecException($"the vsock device answered '{line}' instead of 'OK <port>'");
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends one frame.</summary>
    public async Task SendAsync(ExecFrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            new ExecFrameHeader((uint)payload.Length, type, 0).Write(_writeHeader);
            await _stream.WriteAsync(_writeHeader, cancellationToken).ConfigureAwait(false);
            if (!payload.IsEmpty)
            {
                await _stream.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (IOException ex)
        {
            throw new ExecException($"the connection to the guest agent failed: {ex.Message}", ex);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Sends a frame with one le32 (a signal).</summary>
    public Task SendUInt32Async(ExecFrameType type, uint value, CancellationToken cancellationToken)
    {
        byte[] payload = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, value);
        return SendAsync(type, payload, cancellationToken);
    }

    /// <summary>
    /// Reads the next frame into <paramref name="payload"/> (<see cref="ExecFrameHeader.MaxPayload"/> bytes). Null when
    /// the agent closed the connection at a frame boundary; a broken frame throws <see cref="ExecException"/>.
    /// </summary>
    public async Task<ExecFrameHeader?> ReceiveAsync(Memory<byte> payload, CancellationToken cancellationToken)
    {
        int got = await ReadAtLeastAsync(_readHeader, cancellationToken).ConfigureAwait(false);
        if (got == 0)
        {
            return null;
        }

        if (got < ExecFrameHeader.Size)
        {
            throw new ExecException("the guest agent's connection ended inside a frame header");
        }

        ExecFrameHeader header = ExecFrameHeader.Read(_readHeader);
        if (header.Length > ExecFrameHeader.MaxPayload)
        {
            throw new ExecException($"the guest agent sent a frame of {header.Length} bytes (at most {ExecFrameHeader.MaxPayload})");
        }

        if (header.Length > 0 && await ReadAtLeastAsync(payload[..(int)header.Length], cancellationToken).ConfigureAwait(false) < header.Length)
        {
            throw new ExecException("the guest agent's connection ended inside a frame");
        }

        return header;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        _writeGate.Dispose();
    }

    private async Task<int> ReadAtLeastAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await _stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new ExecException($"the connection to the guest agent failed: {ex.Message}", ex);
        }
    }

    /// <summary>Reads the handshake line byte by byte: what follows it is the frame stream.</summary>
    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        byte[] one = new byte[1];
        while (line.Length < 64)
        {
            if (await _stream.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0)
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
