using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vmm.Core.Control;

/// <summary>A client of a VM's control socket: sends one request at a time and reads its reply.</summary>
public sealed class ControlClient : IAsyncDisposable
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _nextId;

    private ControlClient(Socket socket)
    {
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, s_utf8, detectEncodingFromByteOrderMarks: false, bufferSize: 4096, leaveOpen: true);
    }

    /// <summary>Connects to the control socket at <paramref name="socketPath"/>.</summary>
    public static async Task<ControlClient> ConnectAsync(string socketPath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        Socket socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new ControlClient(socket);
    }

    /// <summary>Sends <paramref name="command"/> with <paramref name="args"/> and returns the reply.</summary>
    public async Task<ControlResponse> SendAsync(string command, JsonObject? args = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        JsonObject request = new()
        {
            ["v"] = ControlProtocol.Version,
            ["id"] = Interlocked.Increment(ref _nextId),
            ["command"] = command,
            ["args"] = args?.DeepClone() ?? new JsonObject(),
        };
        string reply = await SendLineAsync(request.ToJsonString(), cancellationToken).ConfigureAwait(false);
        return ControlResponse.Parse(reply);
    }

    /// <summary>Sends one raw line (a newline is added) and returns the reply line; for tools and tests.</summary>
    public async Task<string> SendLineAsync(string line, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(line);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            byte[] bytes = s_utf8.GetBytes(line + "\n");
            await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            return await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new IOException("The control server closed the connection without a reply.");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }
}
