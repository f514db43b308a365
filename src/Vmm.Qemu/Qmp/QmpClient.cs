using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Vmm.Qemu.Qmp;

/// <summary>
/// A minimal QEMU Machine Protocol client over QEMU's <c>-qmp unix:...</c> socket: reads the greeting, leaves
/// negotiation mode, and runs commands without arguments (<c>system_powerdown</c>, <c>quit</c>). Events that arrive
/// between a command and its reply are skipped.
/// </summary>
internal sealed class QmpClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;

    private QmpClient(Socket socket)
    {
        _socket = socket;
        var stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(stream, Encoding.UTF8);
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
    }

    /// <summary>Connects (retrying while QEMU has not created the socket yet, up to <paramref name="timeout"/>) and negotiates.</summary>
    /// <exception cref="QmpException">No connection, or QEMU refused the negotiation.</exception>
    public static async Task<QmpClient> ConnectAsync(string socketPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), deadline.Token).ConfigureAwait(false);
                var client = new QmpClient(socket);
                try
                {
                    await client.ReadMessageAsync(deadline.Token).ConfigureAwait(false);
                    await client.ExecuteAsync("qmp_capabilities", deadline.Token).ConfigureAwait(false);
                    return client;
                }
                catch
                {
                    await client.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }
            catch (SocketException) when (!deadline.IsCancellationRequested)
            {
                // Not listening yet: QEMU creates the socket during its start-up.
                socket.Dispose();
                await Task.Delay(50, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                throw new QmpException($"QMP socket {socketPath} did not answer within {timeout.TotalSeconds:0.#} s.");
            }
            catch (Exception ex) when (ex is SocketException or IOException or JsonException)
            {
                socket.Dispose();
                throw new QmpException($"QMP socket {socketPath}: {ex.Message}");
            }
        }
    }

    /// <summary>Runs <paramref name="command"/> and waits for its reply.</summary>
    /// <exception cref="QmpException">QEMU replied with an error, or closed the connection first.</exception>
    public async Task ExecuteAsync(string command, CancellationToken cancellationToken)
    {
        try
        {
            await _writer.WriteLineAsync($"{{\"execute\":\"{command}\"}}".AsMemory(), cancellationToken).ConfigureAwait(false);
            while (true)
            {
                using JsonDocument reply = await ReadMessageAsync(cancellationToken).ConfigureAwait(false);
                if (reply.RootElement.TryGetProperty("return", out _))
                {
                    return;
                }

                if (reply.RootElement.TryGetProperty("error", out JsonElement error))
                {
                    string description = error.TryGetProperty("desc", out JsonElement desc) ? desc.GetString() ?? "" : error.GetRawText();
                    throw new QmpException($"QMP {command} failed: {description}");
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or JsonException)
        {
            throw new QmpException($"QMP {command}: {ex.Message}");
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _writer.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<JsonDocument> ReadMessageAsync(CancellationToken cancellationToken)
    {
        string? line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        return line is null ? throw new IOException("QEMU closed the QMP connection.") : JsonDocument.Parse(line);
    }
}
